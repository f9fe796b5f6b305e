using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using NoOrg.Configuration;
using NoOrg.Grains.Security;

namespace NoOrg.Silo.Security;

/// <summary>
/// A presented credential checked: who it is (<see cref="User"/>, the claims of <see cref="AccessClaims"/>, named
/// <c>api-key</c>, <c>key:{id}</c> or <c>jwt:{sub}</c>), or why it was refused.
/// </summary>
internal sealed record CredentialCheck(ClaimsPrincipal? User, string? Refusal)
{
    public static CredentialCheck Refused(string why) => new(null, why);
}

/// <summary>
/// The one place a credential is verified, for HTTP requests and grain calls alike: a bootstrap key of
/// <c>NOORG_SECURITY_API_KEYS</c> (role admin), a stored key (asked of <see cref="IApiKeysGrain"/>), or, with an issuer
/// configured, a JWT (<see cref="JwtAuthentication.ValidationParameters"/>). Grain calls may reuse a success for
/// <c>NOORG_SECURITY_GRAIN_CALL_CACHE_SECONDS</c> (and never past a token's expiry); refusals are never reused.
/// </summary>
internal sealed class CredentialVerifier(NoOrgSettings settings, IGrainFactory grains, JwtSigningKeys signingKeys, TimeProvider clock)
{
    private const int MaxCached = 10_000;
    private readonly ConcurrentDictionary<string, (ClaimsPrincipal User, DateTimeOffset Until)> verified = new(StringComparer.Ordinal);

    /// <summary>A compact JWS: three base64url parts, the first a JSON header (<c>eyJ</c>).</summary>
    public static bool LooksLikeJwt(ReadOnlySpan<char> token) => token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count('.') == 2;

    /// <summary>An API key (bootstrap or stored), uncached: what the HTTP API's key scheme asks.</summary>
    public async Task<CredentialCheck> VerifyApiKeyAsync(string presented, IApiKeysGrain? keys = null)
    {
        var presentedBytes = Encoding.UTF8.GetBytes(presented);
        if (settings.Security.ApiKeyList.Any(k => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(k), presentedBytes)))
        {
            return Success(new AccessPrincipal(ApiKeyAuthenticationHandler.BootstrapName, ApiKeyAuthenticationHandler.BootstrapName, [AccessRole.Admin], []),
                ApiKeyAuthenticationHandler.BootstrapName, ApiKeyAuthenticationHandler.SchemeName);
        }

        if (!ApiKeySecrets.TryParse(presented, out _, out _))
        {
            return CredentialCheck.Refused("the API key is not known");
        }

        var verdict = await (keys ?? grains.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key)).VerifyAsync(presented);
        return verdict switch
        {
            { Principal: { } principal } => Success(principal, "key:" + principal.Id, ApiKeyAuthenticationHandler.SchemeName),
            { Refusal: ApiKeyRefusal.Expired } => CredentialCheck.Refused("the API key has expired"),
            { Refusal: ApiKeyRefusal.Revoked } => CredentialCheck.Refused("the API key was revoked"),
            { Refusal: ApiKeyRefusal.RotatedOut } => CredentialCheck.Refused("the API key was rotated and its grace period is over; use its replacement"),
            _ => CredentialCheck.Refused("the API key is not known"),
        };
    }

    /// <summary>
    /// A grain call's credential: a JWT when it looks like one and JWTs are accepted, otherwise an API key. A success
    /// is reused for the cache time. <paramref name="keys"/> is the keys grain itself when the call is for it (asking it
    /// through a call from inside its own turn would wait for ever).
    /// </summary>
    public async Task<CredentialCheck> VerifyGrainCallAsync(string presented, IApiKeysGrain? keys)
    {
        var now = clock.GetUtcNow();
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
        if (verified.TryGetValue(cacheKey, out var known) && known.Until > now)
        {
            return new CredentialCheck(known.User, null);
        }

        DateTimeOffset? validTo = null;
        CredentialCheck check;
        if (settings.Security.JwtEnabled && LooksLikeJwt(presented))
        {
            (check, validTo) = await VerifyJwtAsync(presented);
        }
        else
        {
            check = await VerifyApiKeyAsync(presented, keys);
        }

        var cacheFor = TimeSpan.FromSeconds(settings.Security.GrainCallCacheSeconds);
        if (check.User is { } user && cacheFor > TimeSpan.Zero)
        {
            if (verified.Count >= MaxCached)
            {
                verified.Clear();
            }

            var until = now + cacheFor;
            verified[cacheKey] = (user, validTo is { } end && end < until ? end : until);
        }

        return check;
    }

    private async Task<(CredentialCheck, DateTimeOffset?)> VerifyJwtAsync(string token)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, JwtAuthentication.ValidationParameters(settings.Security, signingKeys));
        if (!result.IsValid)
        {
            return (CredentialCheck.Refused(JwtAuthentication.Describe(result.Exception)), null);
        }

        var user = JwtAuthentication.ToAccessPrincipal(new ClaimsPrincipal(result.ClaimsIdentity));
        return (new CredentialCheck(user, null), result.SecurityToken is { } t ? new DateTimeOffset(t.ValidTo, TimeSpan.Zero) : null);
    }

    private static CredentialCheck Success(AccessPrincipal principal, string name, string scheme) =>
        new(AccessClaims.ToClaimsPrincipal(principal, name, scheme), null);
}
