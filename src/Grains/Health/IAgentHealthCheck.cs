using NoOrg.Grains.Agents;

namespace NoOrg.Grains.Health;

/// <summary>
/// One health check of an agent, run by the agent's monitor (<see cref="AgentHealthGrain"/>). Register an
/// implementation with <see cref="HealthServiceCollectionExtensions.AddNoOrgHealthCheck{T}"/>; it is a singleton
/// shared by every monitor of the silo, so it must be thread-safe. A check that throws or runs longer than
/// <see cref="Timeout"/> counts as failed (unhealthy) with that reason.
/// </summary>
public interface IAgentHealthCheck
{
    /// <summary>Stable and unique: issues are keyed by it.</summary>
    string Name { get; }

    /// <summary>How often it runs; <see cref="TimeSpan.Zero"/> runs it on every round of the monitor's check interval.</summary>
    TimeSpan Interval { get; }

    TimeSpan Timeout { get; }

    Task<HealthCheckOutcome> CheckAsync(AgentHealthFacts facts, CancellationToken cancellationToken);
}

/// <summary>What a check decided: healthy when it passed, otherwise how bad, and a detail an operator can act on.</summary>
public sealed record HealthCheckOutcome(HealthStatus Status, string Detail)
{
    public static HealthCheckOutcome Pass(string detail) => new(HealthStatus.Healthy, detail);

    public static HealthCheckOutcome Degraded(string detail) => new(HealthStatus.Degraded, detail);

    public static HealthCheckOutcome Unhealthy(string detail) => new(HealthStatus.Unhealthy, detail);
}

/// <summary>The recent facts of one agent that its checks judge; outcomes and uptime cover the monitoring window.</summary>
public sealed record AgentHealthFacts(
    string AgentId,
    DateTimeOffset Now,
    AgentSnapshot Agent,
    DateTimeOffset LastSeenAt,
    int ConnectedWorkers,
    DateTimeOffset? LastWorkerContactAt,
    IReadOnlyList<TaskOutcome> Outcomes,
    double Uptime,
    TimeSpan Observed,
    HealthThresholds Thresholds)
{
    public TimeSpan Silence => Now - LastSeenAt;

    public bool HeartbeatFresh => Silence <= TimeSpan.FromSeconds(Thresholds.HeartbeatTimeoutSeconds);
}
