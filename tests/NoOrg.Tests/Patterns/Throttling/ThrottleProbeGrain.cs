using NoOrg.Grains.Patterns.Throttling;

namespace NoOrg.Tests.Patterns.Throttling;

/// <summary>A test grain that calls limiters from inside a silo, and a method limited by the [RateLimit] filter.</summary>
[Alias("noorg.tests.throttle-probe")]
public interface IThrottleProbeGrain : IGrainWithStringKey
{
    [Alias("where")] Task<string> WhereAsync();

    /// <summary>Acquires one permit after another until <paramref name="duration"/> has passed.</summary>
    [Alias("hammer")] Task<HammerResult> HammerAsync(string policy, string key, TimeSpan duration);

    [RateLimit(ThrottleProbeGrain.FilterPolicy, KeyFrom = "tenant")]
    [Alias("limited")] Task<int> LimitedAsync(string tenant);
}

[GenerateSerializer, Immutable, Alias("noorg.tests.hammer-result")]
public sealed record HammerResult(string Silo, IReadOnlyList<DateTimeOffset> Admitted, int Rejected);

public sealed class ThrottleProbeGrain : Grain, IThrottleProbeGrain
{
    public const string FilterPolicy = "tests.filter";

    private int calls;

    public Task<string> WhereAsync() => Task.FromResult(RuntimeIdentity);

    public async Task<HammerResult> HammerAsync(string policy, string key, TimeSpan duration)
    {
        var (admitted, rejected) = await Hammer.RunAsync(GrainFactory.Limiter(policy, key), duration);
        return new HammerResult(RuntimeIdentity, admitted, rejected);
    }

    public Task<int> LimitedAsync(string tenant) => Task.FromResult(++calls);
}

internal static class Hammer
{
    /// <summary>Asks for a permit every few milliseconds (far more often than the limit allows) and records admissions.</summary>
    public static async Task<(List<DateTimeOffset> Admitted, int Rejected)> RunAsync(IRateLimiterGrain limiter, TimeSpan duration)
    {
        var admitted = new List<DateTimeOffset>();
        var rejected = 0;
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            var decision = await limiter.AcquireAsync(1);
            if (decision.Admitted)
            {
                admitted.Add(decision.AdmittedAt);
            }
            else
            {
                rejected++;
            }

            await Task.Delay(5);
        }

        return (admitted, rejected);
    }
}
