using Microsoft.AspNetCore.Http.HttpResults;
using NoOrg.Client;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Grains.Security;
using NoOrg.Silo.Security;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/limits</c>: cluster-wide rate-limit policies by name, and the counters of one limiter.</summary>
internal static class LimitEndpoints
{
    public static void MapLimitEndpoints(this RouteGroupBuilder v1)
    {
        var limits = v1.MapGroup("/limits").WithTags("Rate limits");
        limits.MapGet("/", (INoOrgClient api) => api.Limits.ListAsync()).WithName("ListRateLimitPolicies").WithSummary("Every rate-limit policy")
            .Example(null, ApiExamples.Policies);
        limits.MapPut("/{name}", SetAsync).WithName("SetRateLimitPolicy").WithSummary("Create or replace a policy (applies at run time)")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.Policy, ApiExamples.Policy).Requires(AccessRole.Admin);
        limits.MapDelete("/{name}", RemoveAsync).WithName("RemoveRateLimitPolicy").WithSummary("Remove a policy; limiters using it then refuse")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, null).Requires(AccessRole.Admin);
        limits.MapGet("/{name}/{key}", (string name, string key, INoOrgClient api) => api.Limits.StatusAsync(name, key)).WithName("RateLimiterStatus")
            .WithSummary("The counters of the limiter of one policy and key").ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.LimiterStatus);
        limits.MapPost("/{name}/{key}/acquire", AcquireAsync).WithName("AcquireRateLimitPermits")
            .WithSummary("Take permits under a policy for a key; 429 with Retry-After when refused (a concurrency permit has a lease id to release)")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.Decision);
        limits.MapPost("/{name}/{key}/release/{leaseId:guid}", ReleaseAsync).WithName("ReleaseRateLimitLease")
            .WithSummary("Give a concurrency permit back (unknown or expired lease ids are ignored)").Example(null, null);
    }

    private static async Task<RateLimitDecision> AcquireAsync(string name, string key, IGrainFactory grains, int permits = 1)
    {
        // The permit is handed to the caller, who releases a concurrency lease itself: nothing is disposed here.
        var decision = await grains.Limiter(name, key).AcquireAsync(permits);
        return decision.Admitted ? decision : throw new RateLimitExceededException(name, key, decision.RetryAfter ?? TimeSpan.FromSeconds(1));
    }

    private static async Task<NoContent> ReleaseAsync(string name, string key, Guid leaseId, IGrainFactory grains)
    {
        await grains.Limiter(name, key).ReleaseAsync(leaseId);
        return TypedResults.NoContent();
    }

    private static Task<RateLimitPolicy> SetAsync(string name, RateLimitPolicy policy, INoOrgClient api) =>
        string.Equals(name, policy.Name, StringComparison.Ordinal)
            ? api.Limits.SetAsync(policy)
            : throw new ValidationException("Invalid policy", [$"name: the body says '{policy.Name}' and the path '{name}'; they must be the same"]);

    private static async Task<NoContent> RemoveAsync(string name, INoOrgClient api) =>
        await api.Limits.RemoveAsync(name) ? TypedResults.NoContent() : throw new NotFoundException($"Rate-limit policy '{name}' does not exist.");
}
