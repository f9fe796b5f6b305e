using NoOrg.Grains.Patterns.Throttling;

namespace NoOrg.Client.Throttling;

/// <summary>Cluster-wide rate limits: policies by name, and permits per policy and key.</summary>
public sealed class LimitClient
{
    private readonly IClusterClient client;

    internal LimitClient(IClusterClient client) => this.client = client;

    public Task<IReadOnlyList<RateLimitPolicy>> ListAsync() => client.GetGrain<IRateLimitPolicyRegistryGrain>(0).ListAsync();

    public Task<RateLimitPolicy> SetAsync(RateLimitPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return client.GetGrain<IRateLimitPolicyGrain>(policy.Name).SetAsync(policy);
    }

    /// <summary>False when there was no policy with this name.</summary>
    public Task<bool> RemoveAsync(string policy) => client.GetGrain<IRateLimitPolicyGrain>(policy).RemoveAsync();

    /// <summary>
    /// Takes permits under <paramref name="policy"/> for <paramref name="key"/>; <see cref="RateLimitExceededException"/>
    /// (with when to retry) when refused. Dispose the permit when the work is done.
    /// </summary>
    public Task<RateLimitPermit> AcquireAsync(string policy, string key, int permits = 1) => client.AcquireAsync(policy, key, permits);

    public Task<RateLimiterStatus> StatusAsync(string policy, string key) => client.Limiter(policy, key).GetStatusAsync();
}
