using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_SECURITY", "Security")]
public sealed class SecuritySettings
{
    internal const int MinimumKeyLength = 32;

    [Setting("REQUIRE_AUTH", "require an API key for the dashboard and every HTTP endpoint except /health; always true in production")]
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

    public IReadOnlyList<string> ApiKeyList =>
        ApiKeys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal IEnumerable<SettingError> Validate(GeneralSettings general)
    {
        if (general.IsProduction && !RequireAuth)
        {
            yield return new SettingError("NOORG_SECURITY_REQUIRE_AUTH", "false", "must be true when NOORG_ENVIRONMENT=production");
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
}
