using NoOrg.Grains.Security;
using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Grains.Alerts;

/// <summary>
/// One alert rule, keyed by its name: its spec, state and history, and the outbox its notifications go through.
/// Created and deleted through <see cref="IAlertRulesGrain"/>, which evaluates it.
/// </summary>
[Alias("noorg.alerts.rule-grain")]
public interface IAlertRuleGrain : IGrainWithStringKey, IOutboxGrain
{
    /// <summary>Null when no rule has this name.</summary>
    [Alias("get")] Task<AlertRule?> GetAsync();

    /// <summary>Acknowledges a pending or firing rule (notified as <c>alert.acknowledged</c>).</summary>
    [Alias("acknowledge")] Task<AlertRule> AcknowledgeAsync(string actor, string? note);

    /// <summary>Silences notifications for <paramref name="duration"/> from now (zero lifts a silence); the rule still changes state.</summary>
    [Alias("silence")] Task<AlertRule> SilenceAsync(TimeSpan duration, string actor);
}

/// <summary>The cluster's set of alert rules and their evaluation: one grain, on one reminder and one timer.</summary>
[Alias("noorg.alerts.rules-grain")]
public interface IAlertRulesGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Creates the rule or replaces its spec (its state and history are kept).</summary>
    [Alias("create-or-replace"), Requires(AccessRole.Admin)] Task<AlertRule> CreateOrReplaceAsync(string name, AlertRuleSpec spec, string actor);

    /// <summary>False when there was no such rule.</summary>
    [Alias("delete"), Requires(AccessRole.Admin)] Task<bool> DeleteAsync(string name);

    /// <summary>Every rule, by name.</summary>
    [Alias("list")] Task<IReadOnlyList<AlertRule>> ListAsync();

    /// <summary>Evaluates every rule now; returns how many changed state.</summary>
    [Alias("evaluate"), Requires(AccessRole.Admin)] Task<int> EvaluateNowAsync();

    /// <summary>Registers the evaluation reminder and starts its timer (idempotent).</summary>
    [Alias("ensure-running"), Requires(AccessRole.Admin)] Task EnsureRunningAsync();
}
