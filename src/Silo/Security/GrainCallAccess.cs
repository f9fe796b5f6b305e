using System.Collections.Concurrent;
using System.Reflection;
using System.Security.Claims;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Security;

/// <summary>
/// What a client's call of one interface method needs: <see cref="Role"/>, or, for an <c>agent</c> credential,
/// acting for one of its agents as <see cref="Agent"/> says. Read from <see cref="RequiresAttribute"/> and
/// <see cref="AgentMayAttribute"/> next to the method (see <see cref="RequiresAttribute"/> for the default).
/// </summary>
internal sealed record GrainCallRule(string Name, AccessRole Role, AgentScope? Agent, int? AgentArgument)
{
    private static readonly string[] ReadPrefixes = ["Get", "List", "Find", "Count"];

    public static GrainCallRule For(MethodInfo method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var type = method.DeclaringType!;
        var name = $"{type.Name}.{method.Name}";
        var read = ReadPrefixes.Any(p => method.Name.StartsWith(p, StringComparison.Ordinal));
        var ours = type.Namespace?.StartsWith("NoOrg.", StringComparison.Ordinal) == true;
        var role = method.GetCustomAttribute<RequiresAttribute>()?.Role
            ?? type.GetCustomAttribute<RequiresAttribute>()?.Role
            ?? (read ? AccessRole.Reader : ours ? AccessRole.Operator : AccessRole.Admin); // Orleans' own grains (management): admin

        var scope = method.GetCustomAttribute<AgentMayAttribute>()?.Scope;
        int? argument = null;
        if (scope == AgentScope.AgentIdArgument)
        {
            argument = method.GetParameters().FirstOrDefault(p => p.Name == "agentId")?.Position
                ?? throw new InvalidOperationException($"[AgentMay(AgentIdArgument)] on {name}: no parameter named 'agentId'.");
        }

        return new GrainCallRule(name, role, scope, argument);
    }

    /// <summary>Null when <paramref name="user"/> may make the call before it runs; otherwise why not.</summary>
    public string? RefusalBefore(ClaimsPrincipal user, IIncomingGrainCallContext call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (AccessClaims.Has(user, Role))
        {
            return null;
        }

        if (Agent is { } scope && AccessClaims.Has(user, AccessRole.Agent))
        {
            var refusal = scope switch
            {
                AgentScope.GrainKey => ApiAccess.ActsForRefusal(user, call.TargetId.Key.ToString()),
                AgentScope.AgentIdArgument => ApiAccess.ActsForRefusal(user, call.Request.GetArgument(AgentArgument!.Value) as string),
                _ => null, // AssignedTask: decided on the answer
            };
            return refusal is null ? null : $"{Name}: {refusal}";
        }

        return $"{Name} needs the {AccessClaims.RoleName(Role)} role; this credential has: {AccessClaims.Describe(user)}";
    }

    /// <summary>For <see cref="AgentScope.AssignedTask"/>: null when the answer is a task assigned to one of the credential's agents.</summary>
    public string? RefusalAfter(ClaimsPrincipal user, object? result)
    {
        if (Agent != AgentScope.AssignedTask || AccessClaims.Has(user, Role))
        {
            return null;
        }

        var holder = result is TaskSnapshot task ? task.AssignedTo : null;
        return holder is not null && ApiAccess.ActsForRefusal(user, holder) is null
            ? null
            : $"{Name}: this agent credential may read only the tasks assigned to {string.Join(", ", AccessClaims.Agents(user).Select(a => $"'{a}'"))}";
    }
}

/// <summary>
/// Checks every grain call that comes from a client (the .NET client, the CLI, a worker) when authentication is
/// required: the credential in the request context (<see cref="GrainCallCredential"/>) is verified as the HTTP API
/// verifies one (<see cref="CredentialVerifier"/>), then held against the method's <see cref="GrainCallRule"/>, before
/// the method runs. Calls from grains, from silo services and from the silo's own hosted client (the HTTP API, which
/// has checked its caller already) are not checked again. The credential is removed from the request context in
/// every case, so it never travels on to other grains or to another client's observer.
/// </summary>
internal sealed class GrainCallAccessFilter(NoOrgSettings settings, CredentialVerifier verifier, IClusterMembershipService membership)
    : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, GrainCallRule> Rules = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        var presented = RequestContext.Get(GrainCallCredential.Key) as string;
        if (presented is not null)
        {
            RequestContext.Remove(GrainCallCredential.Key);
        }

        if (!settings.Security.RequireAuth || !FromClient(context))
        {
            await context.Invoke();
            return;
        }

        var rule = context.InterfaceMethod is { } method
            ? Rules.GetOrAdd(method, GrainCallRule.For)
            : new GrainCallRule($"{context.InterfaceName}.{context.MethodName}", AccessRole.Admin, null, null);
        if (string.IsNullOrWhiteSpace(presented))
        {
            throw new UnauthorizedException(
                $"{rule.Name} needs a credential: set NOORG_SECURITY_CLIENT_CREDENTIAL to an API key or a JWT (the cluster requires authentication)");
        }

        var check = await verifier.VerifyGrainCallAsync(presented, context.TargetContext?.GrainInstance as IApiKeysGrain);
        if (check.User is not { } user)
        {
            throw new UnauthorizedException($"{rule.Name} refused: {check.Refusal}");
        }

        if (rule.RefusalBefore(user, context) is { } refusal)
        {
            throw new ForbiddenException(refusal);
        }

        await context.Invoke();
        if (rule.RefusalAfter(user, context.Result) is { } late)
        {
            throw new ForbiddenException(late);
        }
    }

    /// <summary>
    /// Whether the call was sent by a client connected through a gateway. Not a client: a grain, a silo service
    /// (no source, or a system target), and the hosted client of a silo of the cluster (<c>hosted-{silo}</c>).
    /// Orleans' own system targets answer clients' protocol calls (the cluster manifest) and are left alone.
    /// </summary>
    private bool FromClient(IIncomingGrainCallContext context)
    {
        if (context.SourceId is not { } source || SystemTargetGrainId.TryParse(context.TargetId, out _))
        {
            return false;
        }

        if (!GrainTypePrefix.IsClient(source))
        {
            return false;
        }

        // The silos' hosted clients are "hosted-{silo address}" (their observers add to it); any other id is a client's.
        var key = source.Key.ToString();
        return !key.StartsWith(HostedPrefix, StringComparison.Ordinal)
            || !membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && IsHostedClientOf(key, m.SiloAddress));
    }

    private static bool IsHostedClientOf(string key, SiloAddress silo)
    {
        var hosted = HostedPrefix + silo.ToParsableString();
        return key.StartsWith(hosted, StringComparison.Ordinal) && (key.Length == hosted.Length || !char.IsAsciiDigit(key[hosted.Length]));
    }

    private const string HostedPrefix = "hosted-";
}

internal static class GrainCallAccess
{
    /// <summary>The filter of <see cref="GrainCallAccessFilter"/> and the verifier it shares with the HTTP API.</summary>
    public static IServiceCollection AddNoOrgGrainCallAccess(this IServiceCollection services)
    {
        services.AddNoOrgCredentialVerifier();
        services.AddSingleton<IIncomingGrainCallFilter, GrainCallAccessFilter>();
        return services;
    }
}
