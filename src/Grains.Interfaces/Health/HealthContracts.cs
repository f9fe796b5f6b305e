namespace NoOrg.Grains.Health;

/// <summary>Healthy agents take work first; degraded ones only when no healthy one can; unhealthy ones none.</summary>
public enum HealthStatus { Healthy, Degraded, Unhealthy }

/// <summary>How one attempt of a task ended on an agent, as its monitor counts it.</summary>
public enum TaskOutcomeKind { Succeeded, Failed, TimedOut, Lost }

[GenerateSerializer, Immutable, Alias("noorg.health.task-outcome")]
public sealed record TaskOutcome(string TaskId, int Attempt, TaskOutcomeKind Kind, DateTimeOffset At, TimeSpan? Duration);

/// <summary>Per-agent threshold overrides; a null field follows the cluster-wide setting.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.overrides")]
public sealed record HealthOverrides(
    double? MinSuccessRate = null,
    double? MaxErrorRate = null,
    double? MaxResponseTimeSeconds = null,
    double? MinUptime = null,
    int? HeartbeatTimeoutSeconds = null);

/// <summary>The thresholds in force for one agent: the settings with its overrides applied.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.thresholds")]
public sealed record HealthThresholds(
    double MinSuccessRate,
    double MaxErrorRate,
    double MaxResponseTimeSeconds,
    double MinUptime,
    int HeartbeatTimeoutSeconds,
    int MinSamples,
    int WindowSeconds);

/// <summary>What one check found: healthy when it passed, otherwise how bad and why.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.check-result")]
public sealed record HealthCheckResult(string Check, HealthStatus Status, string Detail, DateTimeOffset At)
{
    public bool Passed => Status == HealthStatus.Healthy;
}

[GenerateSerializer, Immutable, Alias("noorg.health.metrics")]
public sealed record AgentHealthMetrics(
    double Uptime,
    double? SuccessRate,
    double? ErrorRate,
    TimeSpan? MedianResponseTime,
    TimeSpan? P95ResponseTime,
    int Samples,
    DateTimeOffset? LastHeartbeatAt,
    int ConsecutiveFailures);

[GenerateSerializer, Immutable, Alias("noorg.health.status-change")]
public sealed record HealthStatusChange(DateTimeOffset At, HealthStatus From, HealthStatus To, IReadOnlyList<string> Reasons);

public enum HealthIssueState { Open, Resolved }

/// <summary>A failing check of one agent; the same check failing again updates it, passing resolves it.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.issue")]
public sealed record HealthIssue(
    string Id,
    string AgentId,
    string Check,
    HealthStatus Severity,
    HealthIssueState State,
    string Detail,
    int Occurrences,
    DateTimeOffset OpenedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ResolvedAt = null,
    string? ResolvedBy = null,
    string? Note = null);

/// <summary>
/// Everything the monitor of one agent knows. <see cref="QuietSince"/> is set while the agent is offline with no
/// tasks: nothing is checked until it comes back, and that time counts as down in its uptime.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.health.agent-health")]
public sealed record AgentHealth(
    string AgentId,
    HealthStatus Status,
    IReadOnlyList<string> Reasons,
    AgentHealthMetrics Metrics,
    IReadOnlyList<HealthCheckResult> Checks,
    HealthThresholds Thresholds,
    HealthOverrides Overrides,
    IReadOnlyList<HealthStatusChange> History,
    IReadOnlyList<HealthIssue> Issues,
    DateTimeOffset? CheckedAt,
    DateTimeOffset? UnhealthySince,
    DateTimeOffset? QuietSince = null);

/// <summary>One agent's row of the health aggregate.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.agent-summary")]
public sealed record AgentHealthSummary(
    string AgentId,
    HealthStatus Status,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> FailingChecks,
    AgentHealthMetrics Metrics,
    DateTimeOffset CheckedAt);

[GenerateSerializer, Immutable, Alias("noorg.health.report")]
public sealed record ClusterHealthReport(
    DateTimeOffset GeneratedAt,
    IReadOnlyDictionary<HealthStatus, long> Counts,
    IReadOnlyList<AgentHealthSummary> Unhealthy,
    IReadOnlyList<AgentHealthSummary> Degraded,
    IReadOnlyList<HealthIssue> OpenIssues,
    IReadOnlyList<string> Recommendations);

/// <summary>What an agent grain tells its monitor about liveness: the agent, its last sign of life, its workers.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.liveness")]
public sealed record AgentLiveness(
    Agents.AgentSnapshot? Agent,
    DateTimeOffset LastSeenAt,
    int ConnectedWorkers,
    DateTimeOffset? LastWorkerContactAt);

/// <summary>
/// The monitor's decision, applied by the agent grain: its health (projected into the agent index, so dispatch
/// skips unhealthy agents), whether its tasks go back now (the grace period is over), and, when the agent fell
/// silent, the reason it goes offline with.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.health.verdict")]
public sealed record AgentHealthVerdict(HealthStatus Status, string? Reason, bool HandBackTasks, string? OfflineReason);
