using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using NoOrg.Configuration;
using NoOrg.Configuration.Security;
using NoOrg.Grains.Security;

namespace NoOrg.Silo.Security;

/// <summary>
/// The signing keys of <c>NOORG_SECURITY_JWT_KEY_FILES</c>, every one valid at once; a file that changes is read
/// again on the next token (a file that no longer reads keeps its last good key, and says so in the log).
/// </summary>
internal sealed partial class JwtSigningKeys(NoOrgSettings settings, ILogger<JwtSigningKeys> logger)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, (DateTime Written, SecurityKey Key)> loaded = new(StringComparer.Ordinal);

    public IReadOnlyList<SecurityKey> Current()
    {
        lock (gate)
        {
            foreach (var file in settings.Security.JwtKeyFileList)
            {
                var written = File.Exists(file) ? File.GetLastWriteTimeUtc(file) : DateTime.MinValue;
                if (loaded.TryGetValue(file, out var known) && known.Written == written)
                {
                    continue;
                }

                if (JwtKeyFiles.TryLoad(file, out var key, out var problem))
                {
                    loaded[file] = (written, key);
                }
                else
                {
                    LogUnreadable(logger, file, problem);
                }
            }

            return [.. loaded.Values.Select(v => v.Key)];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "JWT key file {File} could not be read again ({Problem}); its last good key stays valid")]
    private static partial void LogUnreadable(ILogger logger, string file, string problem);
}

internal static class JwtAuthentication
{
    public const string SchemeName = "NoOrgJwt";

    /// <summary>The scheme every request is authenticated with: a bearer token that is a JWT goes to JWT, anything else to API keys.</summary>
    public const string SelectorName = "NoOrg";

    public static AuthenticationBuilder AddNoOrgJwt(this AuthenticationBuilder builder, NoOrgSettings settings)
    {
        var security = settings.Security;
        builder.AddPolicyScheme(SelectorName, "API key or JWT", o => o.ForwardDefaultSelector = context =>
            security.JwtEnabled && IsJwt(context.Request) ? SchemeName : ApiKeyAuthenticationHandler.SchemeName);
        if (!security.JwtEnabled)
        {
            return builder;
        }

        builder.Services.AddNoOrgCredentialVerifier();
        builder.AddJwtBearer(SchemeName, _ => { });
        builder.Services.AddOptions<JwtBearerOptions>(SchemeName).Configure<JwtSigningKeys>((o, keys) =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = ValidationParameters(security, keys);
            o.Events = new JwtBearerEvents
            {
                OnTokenValidated = c =>
                {
                    c.Principal = ToAccessPrincipal(c.Principal!);
                    return Task.CompletedTask;
                },
                OnAuthenticationFailed = c =>
                {
                    c.Fail(Describe(c.Exception));
                    return Task.CompletedTask;
                },
            };
        });
        return builder;
    }

    /// <summary>What a token must be, for the API's JWT scheme and for grain calls (<see cref="CredentialVerifier"/>) alike.</summary>
    public static TokenValidationParameters ValidationParameters(SecuritySettings security, JwtSigningKeys keys) => new()
    {
        ValidIssuer = security.JwtIssuer,
        ValidAudience = security.JwtAudience,
        IssuerSigningKeyResolver = (_, _, _, _) => keys.Current(),
        ClockSkew = TimeSpan.FromSeconds(security.JwtClockSkewSeconds),
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        NameClaimType = "sub",
    };

    private static bool IsJwt(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CredentialVerifier.LooksLikeJwt(authorization.AsSpan("Bearer ".Length).Trim());
    }

    /// <summary>The token's <c>roles</c>/<c>role</c> and <c>agents</c> claims as NoOrg's claims; unknown role names give nothing.</summary>
    public static System.Security.Claims.ClaimsPrincipal ToAccessPrincipal(System.Security.Claims.ClaimsPrincipal token)
    {
        var roles = JwtKeyFiles.Values(token, "roles", "role")
            .Select(r => AccessClaims.TryParseRole(r, out var role) ? role : (AccessRole?)null).OfType<AccessRole>().Distinct().ToArray();
        var agents = JwtKeyFiles.Values(token, JwtKeyFiles.AgentsClaim).Distinct(StringComparer.Ordinal).ToArray();
        var subject = token.FindFirst("sub")?.Value ?? "unknown";
        return AccessClaims.ToClaimsPrincipal(new AccessPrincipal(subject, subject, roles, agents), "jwt:" + subject, SchemeName);
    }

    public static string Describe(Exception? error) => error switch
    {
        SecurityTokenExpiredException => "the token has expired",
        SecurityTokenNotYetValidException => "the token is not valid yet (nbf)",
        SecurityTokenInvalidAudienceException => "the token is for another audience",
        SecurityTokenInvalidIssuerException => "the token is from another issuer",
        SecurityTokenNoExpirationException => "the token has no expiry (exp)",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature does not verify with any configured key",
        _ => "the token is not valid",
    };
}
