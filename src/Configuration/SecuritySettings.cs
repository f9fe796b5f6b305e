namespace NoOrg.Configuration;

[SettingsArea("NOORG_SECURITY", "Security")]
public sealed class SecuritySettings
{
    internal const int MinimumKeyLength = 32;

    [Setting("REQUIRE_AUTH", "require an API key for the dashboard and every HTTP endpoint except /health; always true in production")]
    public bool RequireAuth { get; set; }

    [Setting("API_KEYS", "comma-separated API keys accepted as 'Authorization: Bearer KEY', 'X-Api-Key: KEY' or basic-auth password; at least 32 characters each")]
    [Secret]
    public string ApiKeys { get; set; } = "";

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

        var shortKeys = ApiKeyList.Count(k => k.Length < MinimumKeyLength);
        if (shortKeys > 0)
        {
            yield return new SettingError("NOORG_SECURITY_API_KEYS", "***",
                $"{shortKeys} key(s) shorter than {MinimumKeyLength} characters; generate one with: openssl rand -hex 32");
        }
    }
}
