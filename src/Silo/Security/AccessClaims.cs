using System.Security.Claims;
using NoOrg.Grains.Security;

namespace NoOrg.Silo.Security;

/// <summary>
/// A principal as claims: a role claim for each role it has or includes (admin brings operator and reader, operator
/// brings reader) and an <see cref="AgentClaim"/> for each agent id it is bound to. Every scheme (API keys, JWT)
/// ends in these claims, so authorization reads one shape.
/// </summary>
internal static class AccessClaims
{
    public const string AgentClaim = "noorg:agent";

    public static string RoleName(AccessRole role) => role.ToString().ToLowerInvariant();

    /// <summary>The roles <paramref name="role"/> includes, itself first.</summary>
    public static IEnumerable<AccessRole> Included(AccessRole role) => role switch
    {
        AccessRole.Admin => [AccessRole.Admin, AccessRole.Operator, AccessRole.Reader],
        AccessRole.Operator => [AccessRole.Operator, AccessRole.Reader],
        _ => [role],
    };

    public static bool TryParseRole(string? name, out AccessRole role) =>
        Enum.TryParse(name, ignoreCase: true, out role) && Enum.IsDefined(role) && !int.TryParse(name, out _);

    public static ClaimsPrincipal ToClaimsPrincipal(AccessPrincipal principal, string name, string scheme)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(principal.Roles.SelectMany(Included).Distinct().Select(r => new Claim(ClaimTypes.Role, RoleName(r))));
        claims.AddRange(principal.AgentIds.Select(a => new Claim(AgentClaim, a)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    public static bool Has(ClaimsPrincipal user, AccessRole role) => user.IsInRole(RoleName(role));

    public static IReadOnlyList<string> Agents(ClaimsPrincipal user) => [.. user.FindAll(AgentClaim).Select(c => c.Value)];

    /// <summary>"admin, operator" or "none", for an error message.</summary>
    public static string Describe(ClaimsPrincipal user)
    {
        var roles = Enum.GetValues<AccessRole>().Where(r => Has(user, r)).Select(RoleName).ToArray();
        return roles.Length == 0 ? "none" : string.Join(", ", roles);
    }
}
