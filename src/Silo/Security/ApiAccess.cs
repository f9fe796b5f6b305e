using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;

namespace NoOrg.Silo.Security;

/// <summary>Where an endpoint finds the agent an <c>agent</c> credential must be bound to.</summary>
internal enum AgentBinding
{
    /// <summary>The route value <c>{id}</c> (<c>/v1/agents/{id}/...</c>).</summary>
    RouteId,

    /// <summary>The query value <c>assignedTo</c> (a worker listing its own tasks).</summary>
    AssignedToQuery,

    /// <summary>The endpoint itself calls <see cref="ApiAccess.EnsureActsFor"/> once it knows the agent (a body, a task's holder).</summary>
    Endpoint,
}

/// <summary>
/// The role an endpoint needs (null: by method, <c>GET</c> reader, anything else operator) and whether an
/// <c>agent</c> credential may call it for its own agent. Declared next to the endpoint with <see cref="ApiAccess.Requires{TBuilder}"/>.
/// </summary>
internal sealed record RequiredAccess(AccessRole? Role, AgentBinding? Agent);

/// <summary>The one authorization rule of the API: the endpoint's <see cref="RequiredAccess"/> against the caller's claims.</summary>
internal static class ApiAccess
{
    public const string Policy = "noorg-api";

    public static TBuilder Requires<TBuilder>(this TBuilder builder, AccessRole role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredAccess(role, null));

    /// <summary>An agent credential may call this for the agents it is bound to; others need <paramref name="role"/>, by default the role of the method.</summary>
    public static TBuilder AgentMay<TBuilder>(this TBuilder builder, AgentBinding binding, AccessRole? role = null) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredAccess(role, binding));

    public static AccessRole RoleFor(RequiredAccess? access, string method) =>
        access?.Role ?? (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? AccessRole.Reader : AccessRole.Operator);

    /// <summary>Null when <paramref name="user"/> may call the endpoint of <paramref name="http"/>, otherwise why not.</summary>
    public static string? Refusal(HttpContext http, ClaimsPrincipal user)
    {
        var access = http.GetEndpoint()?.Metadata.GetMetadata<RequiredAccess>();
        var role = RoleFor(access, http.Request.Method);
        if (AccessClaims.Has(user, role))
        {
            return null;
        }

        if (access?.Agent is { } binding && AccessClaims.Has(user, AccessRole.Agent))
        {
            var agent = binding switch
            {
                AgentBinding.RouteId => http.GetRouteValue("id") as string,
                AgentBinding.AssignedToQuery => http.Request.Query["assignedTo"].ToString(),
                _ => null,
            };
            return binding == AgentBinding.Endpoint ? null : ActsForRefusal(user, agent);
        }

        return $"{http.Request.Method} {http.Request.Path} needs the {AccessClaims.RoleName(role)} role; this credential has: {AccessClaims.Describe(user)}";
    }

    /// <summary>
    /// For an endpoint that learns its agent late (from a body, or a task's holder): a 403 unless the caller has the
    /// endpoint's role or is an agent credential bound to <paramref name="agentId"/>. Call before any change.
    /// </summary>
    public static void EnsureActsFor(HttpContext http, string? agentId)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!http.RequestServices.GetRequiredService<NoOrgSettings>().Security.RequireAuth)
        {
            return;
        }

        var role = RoleFor(http.GetEndpoint()?.Metadata.GetMetadata<RequiredAccess>(), http.Request.Method);
        if (!AccessClaims.Has(http.User, role) && ActsForRefusal(http.User, agentId) is { } refusal)
        {
            throw new ForbiddenException(refusal);
        }
    }

    internal static string? ActsForRefusal(ClaimsPrincipal user, string? agentId)
    {
        var agents = AccessClaims.Agents(user);
        return !string.IsNullOrEmpty(agentId) && agents.Contains(agentId, StringComparer.Ordinal)
            ? null
            : $"this agent credential acts only for {string.Join(", ", agents.Select(a => $"'{a}'"))}; the request is for {(string.IsNullOrEmpty(agentId) ? "no agent" : $"'{agentId}'")}";
    }
}

internal sealed class ApiAccessRequirement : IAuthorizationRequirement;

/// <summary>Open when authentication is not required (development); otherwise <see cref="ApiAccess.Refusal"/> decides.</summary>
internal sealed class ApiAccessHandler(NoOrgSettings settings) : AuthorizationHandler<ApiAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiAccessRequirement requirement)
    {
        if (!settings.Security.RequireAuth)
        {
            context.Succeed(requirement);
        }
        else if (context.User.Identity?.IsAuthenticated == true && context.Resource is HttpContext http)
        {
            if (ApiAccess.Refusal(http, context.User) is { } refusal)
            {
                context.Fail(new AuthorizationFailureReason(this, refusal));
            }
            else
            {
                context.Succeed(requirement);
            }
        }

        return Task.CompletedTask;
    }
}
