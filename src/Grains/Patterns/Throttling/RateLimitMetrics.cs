using System.Diagnostics.Metrics;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>Rate-limit decisions of the limiter grains. Tag: <c>policy</c> (the policy's name; never the limited key).</summary>
internal static class RateLimitMetrics
{
    public const string MeterName = "NoOrg.Throttling";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Admitted = Meter.CreateCounter<long>("noorg.ratelimit.admitted", "{request}", "Requests a rate-limit policy let through");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("noorg.ratelimit.refused", "{request}",
        "Requests a rate-limit policy refused (no permit, or none within the queue timeout)");

    public static void Decided(string policy, bool admitted) =>
        (admitted ? Admitted : Refused).Add(1, new KeyValuePair<string, object?>("policy", policy));
}
