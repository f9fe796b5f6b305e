using System.Diagnostics.Metrics;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Health;

/// <summary>Agent health checks as each agent's monitor runs them (a result still standing is not a run). Tags: <c>check</c>, <c>status</c>.</summary>
internal static class HealthCheckMetrics
{
    public const string MeterName = "NoOrg.Health";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Runs = Meter.CreateCounter<long>("noorg.health.checks.runs", "{check}", "Health checks run, by check and result");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("noorg.health.checks.failures", "{check}",
        "Health checks that did not pass (degraded or unhealthy, including time-outs and checks that threw)");

    public static HealthCheckResult Ran(HealthCheckResult result)
    {
        var check = new KeyValuePair<string, object?>("check", result.Check);
        var status = new KeyValuePair<string, object?>("status", MetricNames.Of(result.Status));
        Runs.Add(1, check, status);
        if (result.Status != HealthStatus.Healthy)
        {
            Failures.Add(1, check, status);
        }

        return result;
    }
}
