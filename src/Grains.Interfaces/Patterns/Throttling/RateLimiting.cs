namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>The client API of throttling: take a permit or get a <see cref="RateLimitExceededException"/>.</summary>
public static class RateLimiting
{
    /// <summary>The limiter grain key of a (policy, key) pair.</summary>
    public static string LimiterKey(string policy, string key) => $"{policy}/{key}";

    public static IRateLimiterGrain Limiter(this IGrainFactory grains, string policy, string key) =>
        grains.GetGrain<IRateLimiterGrain>(LimiterKey(policy, key));

    /// <summary>
    /// Takes permits under <paramref name="policy"/> for <paramref name="key"/> anywhere in the cluster. Dispose the
    /// result when the work is done: that returns a concurrency permit (a no-op for rate policies).
    /// </summary>
    public static async Task<RateLimitPermit> AcquireAsync(this IGrainFactory grains, string policy, string key, int permits = 1)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var limiter = grains.Limiter(policy, key);
        var decision = await limiter.AcquireAsync(permits);
        return decision.Admitted
            ? new RateLimitPermit(limiter, decision)
            : throw new RateLimitExceededException(policy, key, decision.RetryAfter ?? TimeSpan.Zero);
    }
}

/// <summary>An admitted call; disposing releases its concurrency lease, if it has one.</summary>
public sealed class RateLimitPermit(IRateLimiterGrain limiter, RateLimitDecision decision) : IAsyncDisposable
{
    private int released;

    public RateLimitDecision Decision { get; } = decision;

    public async ValueTask DisposeAsync()
    {
        if (Decision.LeaseId is { } lease && Interlocked.Exchange(ref released, 1) == 0)
        {
            await limiter.ReleaseAsync(lease);
        }
    }
}
