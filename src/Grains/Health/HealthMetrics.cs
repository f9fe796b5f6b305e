using NoOrg.Grains.Tasks;

namespace NoOrg.Grains.Health;

/// <summary>The figures computed from a window of task outcomes; the checks and the metrics share them.</summary>
internal static class HealthMetrics
{
    public static double? SuccessRate(IReadOnlyList<TaskOutcome> outcomes) =>
        outcomes.Count == 0 ? null : (double)outcomes.Count(o => o.Kind == TaskOutcomeKind.Succeeded) / outcomes.Count;

    /// <summary>Attempts the agent failed or let time out; a lost agent counts against the success rate only.</summary>
    public static double? ErrorRate(IReadOnlyList<TaskOutcome> outcomes) =>
        outcomes.Count == 0 ? null : (double)outcomes.Count(o => o.Kind is TaskOutcomeKind.Failed or TaskOutcomeKind.TimedOut) / outcomes.Count;

    /// <summary>Durations of the successful attempts, ascending.</summary>
    public static List<TimeSpan> Durations(IReadOnlyList<TaskOutcome> outcomes)
    {
        var durations = outcomes.Where(o => o.Kind == TaskOutcomeKind.Succeeded && o.Duration is not null).Select(o => o.Duration!.Value).ToList();
        durations.Sort();
        return durations;
    }

    public static AgentHealthMetrics Compute(IReadOnlyList<TaskOutcome> outcomes, double uptime, DateTimeOffset? lastHeartbeatAt, int consecutiveFailures)
    {
        var durations = Durations(outcomes);
        return new AgentHealthMetrics(
            uptime,
            SuccessRate(outcomes),
            ErrorRate(outcomes),
            durations.Count == 0 ? null : NearestRank.Percentile(durations, 50),
            durations.Count == 0 ? null : NearestRank.Percentile(durations, 95),
            outcomes.Count,
            lastHeartbeatAt,
            consecutiveFailures);
    }
}
