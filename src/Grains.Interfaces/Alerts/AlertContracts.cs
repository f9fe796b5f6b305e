namespace NoOrg.Grains.Alerts;

/// <summary>What an alert rule watches. Each kind reads one set-based figure from the cluster's indexes.</summary>
public enum AlertKind
{
    /// <summary>Agents whose health is unhealthy (health index); fires when more than <see cref="AlertRuleSpec.Threshold"/> are, for <see cref="AlertRuleSpec.For"/>.</summary>
    AgentUnhealthy,

    /// <summary>Pending tasks (of the pool needing <see cref="AlertRuleSpec.Capability"/>, or all); fires above the threshold.</summary>
    PendingTasks,

    /// <summary>Dead-lettered outbox messages of every owner; fires above the threshold.</summary>
    DeadLetters,

    /// <summary>Share of sagas finished within <see cref="AlertRuleSpec.Window"/> that did not complete (0 to 1); fires above the threshold.</summary>
    SagaFailureRate,

    /// <summary>Agents with <see cref="AlertRuleSpec.Capability"/> that accept work and are not unhealthy; fires when there is none.</summary>
    NoHealthyAgent,
}

/// <summary>Where a rule stands: ok, pending (the condition holds, not yet for long enough), firing, resolved (it stopped).</summary>
public enum AlertState { Ok, Pending, Firing, Resolved }

/// <summary>A change of a rule that is recorded in its history; all but <see cref="Ok"/> are notified (event <c>alert.{action}</c>).</summary>
public enum AlertAction { Pending, Firing, Resolved, Ok, Acknowledged, Silenced }

/// <summary>
/// What an alert rule checks: a kind, its parameters, and how long the condition must hold before the rule fires
/// (<see cref="For"/>; zero fires at the first evaluation that sees it).
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.alerts.rule-spec")]
public sealed record AlertRuleSpec(
    AlertKind Kind,
    double Threshold = 0,
    TimeSpan For = default,
    string? Capability = null,
    TimeSpan? Window = null,
    string? Description = null);

/// <summary>Who acknowledged a pending or firing rule, and why; cleared when the rule resolves.</summary>
[GenerateSerializer, Immutable, Alias("noorg.alerts.acknowledgement")]
public sealed record AlertAcknowledgement(string By, string? Note, DateTimeOffset At);

/// <summary>One recorded change of a rule. <see cref="Notified"/> is false when it was silenced or is not an event.</summary>
[GenerateSerializer, Immutable, Alias("noorg.alerts.transition")]
public sealed record AlertTransition(
    long Sequence, AlertAction Action, AlertState From, AlertState To, double? Value, DateTimeOffset At, string Actor, string? Note, bool Notified);

/// <summary>An alert rule and where it stands.</summary>
[GenerateSerializer, Immutable, Alias("noorg.alerts.rule")]
public sealed record AlertRule(
    string Name,
    AlertRuleSpec Spec,
    AlertState State,
    DateTimeOffset Since,
    double? LastValue,
    DateTimeOffset? LastEvaluatedAt,
    AlertAcknowledgement? Acknowledgement,
    DateTimeOffset? SilencedUntil,
    long Sequence,
    IReadOnlyList<AlertTransition> History,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public bool IsSilencedAt(DateTimeOffset now) => SilencedUntil is { } until && until > now;
}

/// <summary>The payload of every <c>alert.*</c> webhook event: the rule after the change and the change itself.</summary>
[GenerateSerializer, Immutable, Alias("noorg.alerts.event")]
public sealed record AlertEvent(string Rule, AlertKind Kind, AlertState State, AlertTransition Transition, string? Description);
