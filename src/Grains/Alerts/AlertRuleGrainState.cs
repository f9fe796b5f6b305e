using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Grains.Alerts;

/// <summary>What an alert rule grain stores: the rule (null until created, and after deletion) and the messages of this write.</summary>
[GenerateSerializer, Alias("noorg.alerts.rule-state")]
public sealed record AlertRuleGrainState
{
    [Id(0)] public AlertRule? Rule { get; init; }

    /// <summary>The <c>alert.*</c> events this write records; the database keeps them as rows until delivered.</summary>
    [Id(1)] public OutboxState Outbox { get; init; } = new();
}

/// <summary>What the rule set grain stores: every rule's name and spec, so an evaluation reads each signal once.</summary>
[GenerateSerializer, Alias("noorg.alerts.rules-state")]
public sealed record AlertRulesState
{
    [Id(0)] public IReadOnlyDictionary<string, AlertRuleSpec> Rules { get; init; } = new Dictionary<string, AlertRuleSpec>();
}
