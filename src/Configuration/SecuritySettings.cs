using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_SECURITY", "Security")]
public sealed class SecuritySettings
{
    internal const int MinimumKeyLength = 32;

    [Setting("REQUIRE_AUTH", "require a credential (API key or JWT) with the right role for the HTTP API, its document, the dashboard, /metrics (not /health) and every grain call from a client (the .NET client, the CLI, workers); always true in production")]
    public bool RequireAuth { get; set; }

    [Setting("API_KEYS", "comma-separated bootstrap API keys (role admin) accepted as 'Authorization: Bearer KEY', 'X-Api-Key: KEY' or basic-auth password; at least 32 characters each; more keys with: noorg keys create")]
    [Secret]
    public string ApiKeys { get; set; } = "";

    [Setting("API_KEY_PEPPER", "secret mixed into the hash of every stored API key (HMAC-SHA256 key), at least 32 characters; changing it invalidates the keys made by noorg keys create")]
    [Secret]
    public string ApiKeyPepper { get; set; } = "";

    [Setting("AUTH_FAILURE_LIMIT", "refused credentials one remote address may send per window before it gets 429 (with Retry-After) until the window ends")]
    [Range(1, 100_000)]
    public int AuthFailureLimit { get; set; } = 10;

    [Setting("AUTH_FAILURE_WINDOW_SECONDS", "the window of NOORG_SECURITY_AUTH_FAILURE_LIMIT")]
    [Range(1, 86_400)]
    public int AuthFailureWindowSeconds { get; set; } = 60;

    [Setting("CLIENT_CREDENTIAL", "clients only (the .NET client, the CLI, workers): the API key or JWT presented on every grain call; needed when the silos require authentication")]
    [Secret]
    public string ClientCredential { get; set; } = "";

    [Setting("GRAIN_CALL_CACHE_SECONDS", "how long a silo reuses a verified credential of a grain call before asking again; the longest a revoked or rotated-out key still works on grain calls (0: verify every call)")]
    [Range(0, 60)]
    public int GrainCallCacheSeconds { get; set; } = 5;

    public IReadOnlyList<string> ApiKeyList =>
        ApiKeys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Setting("JWT_ISSUER", "issuer (iss) a JWT bearer token must have; empty: JWTs are not accepted")]
    public string JwtIssuer { get; set; } = "";

    [Setting("JWT_AUDIENCE", "audience (aud) a JWT bearer token must have; required with NOORG_SECURITY_JWT_ISSUER")]
    public string JwtAudience { get; set; } = "";

    [Setting("JWT_KEY_FILES", "comma-separated files of the keys a JWT may be signed with (PEM RSA or EC public key, or an HMAC secret of 32+ bytes); every one is valid, so keys can rotate; re-read when a file changes")]
    public string JwtKeyFiles { get; set; } = "";

    [Setting("JWT_CLOCK_SKEW_SECONDS", "how far a JWT's exp and nbf may be off the silo's clock")]
    [Range(0, 300)]
    public int JwtClockSkewSeconds { get; set; } = 30;

    public IReadOnlyList<string> JwtKeyFileList =>
        JwtKeyFiles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>JWT bearer tokens are accepted (an issuer is configured).</summary>
    public bool JwtEnabled => JwtIssuer.Length > 0;

    internal IEnumerable<SettingError> Validate(GeneralSettings general)
    {
        foreach (var error in ValidateJwt())
        {
            yield return error;
        }

        if (general.IsProduction && !RequireAuth)
        {
            yield return new SettingError("NOORG_SECURITY_REQUIRE_AUTH", "false",
                "must be true when NOORG_ENVIRONMENT=production: it requires a credential on the HTTP API and on every grain call from a client "
                + "(the .NET client, the CLI, workers); set it with NOORG_SECURITY_API_KEYS (bootstrap admin keys) and NOORG_SECURITY_API_KEY_PEPPER "
                + "(for the keys of noorg keys create), and give each client NOORG_SECURITY_CLIENT_CREDENTIAL");
        }

        if ((RequireAuth || general.IsProduction) && ApiKeyList.Count == 0)
        {
            yield return new SettingError("NOORG_SECURITY_API_KEYS", null, "at least one API key is required when authentication is required");
        }

        if (ApiKeyPepper.Length is > 0 and < MinimumKeyLength)
        {
            yield return new SettingError("NOORG_SECURITY_API_KEY_PEPPER", "***",
                $"shorter than {MinimumKeyLength} characters; generate one with: openssl rand -hex 32");
        }

        var shortKeys = ApiKeyList.Count(k => k.Length < MinimumKeyLength);
        if (shortKeys > 0)
        {
            yield return new SettingError("NOORG_SECURITY_API_KEYS", "***",
                $"{shortKeys} key(s) shorter than {MinimumKeyLength} characters; generate one with: openssl rand -hex 32");
        }
    }

    private IEnumerable<SettingError> ValidateJwt()
    {
        if (!JwtEnabled && (JwtAudience.Length > 0 || JwtKeyFileList.Count > 0))
        {
            yield return new SettingError("NOORG_SECURITY_JWT_ISSUER", null, "required when NOORG_SECURITY_JWT_AUDIENCE or NOORG_SECURITY_JWT_KEY_FILES is set");
        }

        if (!JwtEnabled)
        {
            yield break;
        }

        if (JwtAudience.Length == 0)
        {
            yield return new SettingError("NOORG_SECURITY_JWT_AUDIENCE", null, "required with NOORG_SECURITY_JWT_ISSUER");
        }

        if (JwtKeyFileList.Count == 0)
        {
            yield return new SettingError("NOORG_SECURITY_JWT_KEY_FILES", null, "at least one key file is required with NOORG_SECURITY_JWT_ISSUER");
        }

        foreach (var file in JwtKeyFileList)
        {
            if (!Security.JwtKeyFiles.TryLoad(file, out _, out var problem))
            {
                yield return new SettingError("NOORG_SECURITY_JWT_KEY_FILES", JwtKeyFiles, $"cannot read a key from '{file}': {problem}");
            }
        }
    }
}
