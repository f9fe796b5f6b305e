using System.Globalization;
using NoOrg.Configuration;

namespace NoOrg.Grains.Health;

/// <summary>Advice that follows from which checks fail and the thresholds in force.</summary>
internal static class HealthRecommendations
{
    public static IReadOnlyList<string> For(
        IReadOnlyDictionary<HealthStatus, long> counts,
        IReadOnlyList<AgentHealthSummary> unhealthy,
        IReadOnlyList<AgentHealthSummary> degraded,
        NoOrgSettings settings)
    {
        var h = settings.AgentHealth;
        var advice = new List<string>();
        var total = counts.Values.Sum();
        if (total > 0 && counts.GetValueOrDefault(HealthStatus.Healthy) == 0)
        {
            advice.Add(counts.GetValueOrDefault(HealthStatus.Degraded) > 0
                ? "No agent is healthy: tasks go to degraded agents only. Fix the failing checks below or add agents."
                : "No agent can take work: every monitored agent is unhealthy. Fix the failing checks below or add agents.");
        }

        var failing = unhealthy.Concat(degraded)
            .SelectMany(a => a.FailingChecks.Select(c => (Check: c, Agent: a.AgentId)))
            .GroupBy(x => x.Check, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in failing)
        {
            var agents = group.Select(x => x.Agent).ToList();
            var who = $"{agents.Count} agent(s) ({string.Join(", ", agents.Take(5))}{(agents.Count > 5 ? ", …" : "")})";
            advice.Add(group.Key switch
            {
                "heartbeat" => $"{who} sent no heartbeat within {settings.Agents.HeartbeatTimeoutSeconds}s: check that their workers run and reach the cluster. Their running tasks are handed back {h.GracePeriodSeconds}s after they turned unhealthy.",
                "reachability" => $"{who} have no worker connected to receive tasks: restart `noorg worker` for them.",
                "error-rate" => $"{who} fail more than {Percent(h.MaxErrorRate)} of their attempts: look at their failed tasks, or set a per-agent override if that rate is expected.",
                "success-rate" => $"{who} complete fewer than {Percent(h.MinSuccessRate)} of their attempts (failures, time-outs and hand-backs): look at their task history.",
                "response-time" => $"{who} take longer than {h.MaxResponseTimeSeconds.ToString(CultureInfo.InvariantCulture)}s (p95): lower their MaxConcurrentTasks, add agents, or raise the threshold if such work is slow by nature.",
                "uptime" => $"{who} were up less than {Percent(h.MinUptime)} of the last {h.WindowSeconds}s: their connection to the cluster is intermittent.",
                _ => $"{who} fail the check '{group.Key}': see `noorg health agent ID` for its detail.",
            });
        }

        return advice;
    }

    private static string Percent(double value) => value.ToString("0.##%", CultureInfo.InvariantCulture);
}
