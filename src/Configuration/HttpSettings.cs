using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_HTTP", "HTTP")]
public sealed class HttpSettings
{
    [Setting("URLS", "semicolon-separated URLs the silo's HTTP server (health, dashboard, API) listens on; use http://0.0.0.0:8080 in a container")]
    public string Urls { get; set; } = "http://localhost:8080";

    // Above a task's largest input (NOORG_TASKS_MAX_INPUT_BYTES, 64 KiB by default) escaped as a JSON string.
    [Setting("MAX_REQUEST_BYTES", "largest request body the HTTP API (/v1) accepts; larger ones get 413")]
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    public IReadOnlyList<string> UrlList =>
        Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal IEnumerable<SettingError> Validate()
    {
        if (UrlList.Count == 0)
        {
            yield return new SettingError("NOORG_HTTP_URLS", Urls, "expected at least one URL");
        }

        foreach (var url in UrlList.Where(u => !SettingsBinder.IsHttpUrl(u)))
        {
            yield return new SettingError("NOORG_HTTP_URLS", Urls, $"'{url}' is not an absolute http:// or https:// URL");
        }
    }
}
