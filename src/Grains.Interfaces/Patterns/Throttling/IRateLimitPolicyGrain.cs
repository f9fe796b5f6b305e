using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>One durable rate-limit policy, keyed by its name. Limiters re-read it, so a change applies at run time.</summary>
[Alias("noorg.throttling.policy-grain")]
public interface IRateLimitPolicyGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces the policy; the name must match the grain key.</summary>
    [Alias("set"), Requires(AccessRole.Admin)] Task<RateLimitPolicy> SetAsync(RateLimitPolicy policy);

    /// <summary>True when a policy was removed; limiters using it then refuse with <see cref="Errors.NotFoundException"/>.</summary>
    [Alias("remove"), Requires(AccessRole.Admin)] Task<bool> RemoveAsync();

    /// <summary>Null when no policy has this name.</summary>
    [Alias("get")] Task<RateLimitPolicy?> GetAsync();
}

/// <summary>The names of all policies, for listing. Key 0.</summary>
[Alias("noorg.throttling.policy-registry")]
public interface IRateLimitPolicyRegistryGrain : IGrainWithIntegerKey
{
    [Alias("add"), Requires(AccessRole.Admin)] Task AddAsync(string name);

    [Alias("remove"), Requires(AccessRole.Admin)] Task RemoveAsync(string name);

    [Alias("list")] Task<IReadOnlyList<RateLimitPolicy>> ListAsync();
}

/// <summary>
/// The one limiter of one (policy, key) pair in the whole cluster, so its limit is global. Keyed
/// <c>{policy}/{key}</c> (see <see cref="RateLimiting.LimiterKey"/>).
/// </summary>
[Alias("noorg.throttling.limiter")]
public interface IRateLimiterGrain : IGrainWithStringKey
{
    /// <summary>Takes <paramref name="permits"/> permits, waiting in the policy's bounded queue if it has one.</summary>
    [Alias("acquire")] Task<RateLimitDecision> AcquireAsync(int permits);

    /// <summary>Gives a concurrency permit back; unknown or expired lease ids are ignored.</summary>
    [Alias("release")] Task ReleaseAsync(Guid leaseId);

    [Alias("status")] Task<RateLimiterStatus> GetStatusAsync();
}
