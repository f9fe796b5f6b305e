using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

/// <summary>Cluster-wide thresholds and periods of agent health monitoring; each agent may override the thresholds.</summary>
[SettingsArea("NOORG_AGENT_HEALTH", "Agent health monitoring")]
public sealed class AgentHealthSettings
{
    [Setting("CHECK_INTERVAL_SECONDS", "how often each agent's health checks run (a grain timer; a reminder at the reminder floor restarts it)")]
    [Range(1, 3600)]
    public int CheckIntervalSeconds { get; set; } = 5;

    [Setting("GRACE_PERIOD_SECONDS", "how long an unhealthy agent keeps its running tasks before they are handed back for reassignment")]
    [Range(0, 86400)]
    public int GracePeriodSeconds { get; set; } = 10;

    [Setting("WINDOW_SECONDS", "the window over which task outcomes, response times and uptime are measured")]
    [Range(10, 604800)]
    public int WindowSeconds { get; set; } = 900;

    [Setting("MIN_SAMPLES", "task outcomes needed in the window before success rate, error rate and response time are judged")]
    [Range(1, 10000)]
    public int MinSamples { get; set; } = 5;

    [Setting("MIN_SUCCESS_RATE", "below this share of completed attempts an agent is degraded")]
    [Range(0.0, 1.0)]
    public double MinSuccessRate { get; set; } = 0.90;

    [Setting("MAX_ERROR_RATE", "above this share of failed or timed-out attempts an agent is unhealthy")]
    [Range(0.0, 1.0)]
    public double MaxErrorRate { get; set; } = 0.10;

    [Setting("MAX_RESPONSE_TIME_SECONDS", "above this p95 of task durations an agent is degraded (the median above it: unhealthy)")]
    [Range(0.001, 86400.0)]
    public double MaxResponseTimeSeconds { get; set; } = 5;

    [Setting("MIN_UPTIME", "below this share of monitored time with a live heartbeat an agent is degraded")]
    [Range(0.0, 1.0)]
    public double MinUptime { get; set; } = 0.99;

    [Setting("HISTORY_LIMIT", "status changes and resolved issues kept per agent; older ones are dropped")]
    [Range(10, 100000)]
    public int HistoryLimit { get; set; } = 100;
}
