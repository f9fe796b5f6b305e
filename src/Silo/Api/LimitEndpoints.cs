using Microsoft.AspNetCore.Http.HttpResults;
using NoOrg.Client;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;

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
            .Example(ApiExamples.Policy, ApiExamples.Policy);
        limits.MapDelete("/{name}", RemoveAsync).WithName("RemoveRateLimitPolicy").WithSummary("Remove a policy; limiters using it then refuse")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, null);
        limits.MapGet("/{name}/{key}", (string name, string key, INoOrgClient api) => api.Limits.StatusAsync(name, key)).WithName("RateLimiterStatus")
            .WithSummary("The counters of the limiter of one policy and key").ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.LimiterStatus);
    }

    private static Task<RateLimitPolicy> SetAsync(string name, RateLimitPolicy policy, INoOrgClient api) =>
        string.Equals(name, policy.Name, StringComparison.Ordinal)
            ? api.Limits.SetAsync(policy)
            : throw new ValidationException("Invalid policy", [$"name: the body says '{policy.Name}' and the path '{name}'; they must be the same"]);

    private static async Task<NoContent> RemoveAsync(string name, INoOrgClient api) =>
        await api.Limits.RemoveAsync(name) ? TypedResults.NoContent() : throw new NotFoundException($"Rate-limit policy '{name}' does not exist.");
}
