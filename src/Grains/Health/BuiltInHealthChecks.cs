using System.Globalization;
using NoOrg.Grains.Tasks;

namespace NoOrg.Grains.Health;

/// <summary>The checks every monitor runs. Each judges one threshold of <see cref="HealthThresholds"/>.</summary>
internal abstract class BuiltInHealthCheck : IAgentHealthCheck
{
    public abstract string Name { get; }

    public TimeSpan Interval => TimeSpan.Zero;

    public TimeSpan Timeout => TimeSpan.FromSeconds(5);

    public Task<HealthCheckOutcome> CheckAsync(AgentHealthFacts facts, CancellationToken cancellationToken) => Task.FromResult(Check(facts));

    protected abstract HealthCheckOutcome Check(AgentHealthFacts facts);

    protected static string Percent(double value) => value.ToString("0.##%", CultureInfo.InvariantCulture);

    protected static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    /// <summary>Null while the window holds fewer outcomes than the thresholds need to be meaningful.</summary>
    protected static string? TooFew(AgentHealthFacts facts, int count) =>
        count < facts.Thresholds.MinSamples ? $"{count} of {facts.Thresholds.MinSamples} outcome(s) needed in the window" : null;
}

internal sealed class HeartbeatCheck : BuiltInHealthCheck
{
    public const string CheckName = "heartbeat";

    public override string Name => CheckName;

    // The detail starts with "no heartbeat for": the agent goes offline with it as its reason.
    protected override HealthCheckOutcome Check(AgentHealthFacts facts) => facts.HeartbeatFresh
        ? HealthCheckOutcome.Pass($"last sign of life {(int)facts.Silence.TotalSeconds}s ago")
        : HealthCheckOutcome.Unhealthy($"no heartbeat for {(int)facts.Silence.TotalSeconds}s (timeout {facts.Thresholds.HeartbeatTimeoutSeconds}s)");
}

internal sealed class ReachabilityCheck : BuiltInHealthCheck
{
    public override string Name => "reachability";

    protected override HealthCheckOutcome Check(AgentHealthFacts facts)
    {
        if (facts.LastWorkerContactAt is not { } contact)
        {
            return HealthCheckOutcome.Pass("no worker connection used: the agent is driven through the API");
        }

        if (facts.Agent is { Status: Agents.AgentStatus.Offline, ActiveTaskIds.Count: 0 })
        {
            return HealthCheckOutcome.Pass("offline with no tasks: no worker expected (a stopped worker takes its agent offline)");
        }

        return facts.ConnectedWorkers > 0
            ? HealthCheckOutcome.Pass($"{facts.ConnectedWorkers} worker(s) connected")
            : HealthCheckOutcome.Degraded($"no worker connected to receive tasks (last contact {(int)(facts.Now - contact).TotalSeconds}s ago)");
    }
}

internal sealed class ErrorRateCheck : BuiltInHealthCheck
{
    public override string Name => "error-rate";

    protected override HealthCheckOutcome Check(AgentHealthFacts facts)
    {
        if (TooFew(facts, facts.Outcomes.Count) is { } few)
        {
            return HealthCheckOutcome.Pass(few);
        }

        var rate = HealthMetrics.ErrorRate(facts.Outcomes)!.Value;
        var max = facts.Thresholds.MaxErrorRate;
        return rate > max
            ? HealthCheckOutcome.Unhealthy($"error rate {Percent(rate)} above the maximum {Percent(max)} over {facts.Outcomes.Count} attempt(s)")
            : HealthCheckOutcome.Pass($"error rate {Percent(rate)} (max {Percent(max)})");
    }
}

internal sealed class SuccessRateCheck : BuiltInHealthCheck
{
    public override string Name => "success-rate";

    protected override HealthCheckOutcome Check(AgentHealthFacts facts)
    {
        if (TooFew(facts, facts.Outcomes.Count) is { } few)
        {
            return HealthCheckOutcome.Pass(few);
        }

        var rate = HealthMetrics.SuccessRate(facts.Outcomes)!.Value;
        var min = facts.Thresholds.MinSuccessRate;
        return rate < min
            ? HealthCheckOutcome.Degraded($"success rate {Percent(rate)} below the minimum {Percent(min)} over {facts.Outcomes.Count} attempt(s)")
            : HealthCheckOutcome.Pass($"success rate {Percent(rate)} (min {Percent(min)})");
    }
}

internal sealed class ResponseTimeCheck : BuiltInHealthCheck
{
    public override string Name => "response-time";

    protected override HealthCheckOutcome Check(AgentHealthFacts facts)
    {
        var durations = HealthMetrics.Durations(facts.Outcomes);
        if (TooFew(facts, durations.Count) is { } few)
        {
            return HealthCheckOutcome.Pass(few);
        }

        var median = NearestRank.Percentile(durations, 50);
        var p95 = NearestRank.Percentile(durations, 95);
        var max = TimeSpan.FromSeconds(facts.Thresholds.MaxResponseTimeSeconds);
        var detail = $"median {Seconds(median)}, p95 {Seconds(p95)} (max {Seconds(max)})";
        return median > max ? HealthCheckOutcome.Unhealthy("median response time above the maximum: " + detail)
            : p95 > max ? HealthCheckOutcome.Degraded("p95 response time above the maximum: " + detail)
            : HealthCheckOutcome.Pass(detail);
    }
}

internal sealed class UptimeCheck : BuiltInHealthCheck
{
    public override string Name => "uptime";

    protected override HealthCheckOutcome Check(AgentHealthFacts facts)
    {
        var min = facts.Thresholds.MinUptime;
        var detail = $"uptime {Percent(facts.Uptime)} over {Seconds(facts.Observed)} monitored (min {Percent(min)})";
        return facts.Uptime < min ? HealthCheckOutcome.Degraded(detail) : HealthCheckOutcome.Pass(detail);
    }
}
