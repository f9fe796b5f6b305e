using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Security;

namespace NoOrg.Silo.Security;

/// <summary>
/// Accepts an API key as <c>Authorization: Bearer KEY</c>, <c>X-Api-Key: KEY</c>, or the password of HTTP basic
/// authentication (so a browser can open the dashboard): one of the bootstrap keys of <c>NOORG_SECURITY_API_KEYS</c>
/// (role admin), or a stored key, verified by <see cref="IApiKeysGrain"/> on every request (<see cref="CredentialVerifier"/>), so a revoked or
/// rotated-out key stops at once on every silo.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, CredentialVerifier verifier)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "NoOrgApiKey";

    /// <summary>The name a bootstrap key authenticates as (histories record changes as <c>http:api-key</c>).</summary>
    public const string BootstrapName = "api-key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request);
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        var check = await verifier.VerifyApiKeyAsync(presented);
        return check.User is { } user
            ? AuthenticateResult.Success(new AuthenticationTicket(user, SchemeName))
            : AuthenticateResult.Fail(check.Refusal!);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"NoOrg\", Bearer";
        return Task.CompletedTask;
    }

    /// <summary>True when the request carries a credential of any kind (a header a scheme of NoOrg reads).</summary>
    public static bool PresentsCredential(HttpRequest request) =>
        request.Headers.ContainsKey("X-Api-Key") || request.Headers.Authorization.Count > 0;

    private static string? PresentedKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue("X-Api-Key", out var header) && !string.IsNullOrEmpty(header))
        {
            return header.ToString();
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? null : decoded[(colon + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }
}

public static class ApiKeyAuthentication
{
    /// <summary>The dashboard's and /metrics' policy: any credential with the reader role (admin and operator include it).</summary>
    public const string Policy = "noorg-api-key";

    public static IServiceCollection AddNoOrgAuthentication(this IServiceCollection services, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddAuthentication(JwtAuthentication.SelectorName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddNoOrgJwt(settings);
        services.AddSingleton<IAuthorizationHandler, ApiAccessHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResults>();
        services.AddSingleton<AuthFailureThrottle>();
        services.AddNoOrgCredentialVerifier();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, p =>
            {
                if (settings.Security.RequireAuth)
                {
                    p.RequireRole(AccessClaims.RoleName(AccessRole.Reader));
                }
                else
                {
                    p.RequireAssertion(_ => true);
                }
            })
            .AddPolicy(ApiAccess.Policy, p => p.AddRequirements(new ApiAccessRequirement()));
        return services;
    }

    /// <summary>The verifier of <see cref="CredentialVerifier"/> and the JWT signing keys it reads; added once, by the API and the grain call filter.</summary>
    internal static IServiceCollection AddNoOrgCredentialVerifier(this IServiceCollection services)
    {
        services.TryAddSingleton<JwtSigningKeys>();
        services.TryAddSingleton<CredentialVerifier>();
        return services;
    }
}
