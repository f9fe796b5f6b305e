using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_DASHBOARD", "Dashboard")]
public sealed class DashboardSettings
{
    [Setting("ENABLED", "serve the Orleans dashboard on the silo's HTTP port")]
    public bool Enabled { get; set; } = true;

    [Setting("PATH", "URL path of the dashboard")]
    public string Path { get; set; } = "/dashboard";

    [Setting("COUNTER_UPDATE_INTERVAL_MS", "how often the dashboard refreshes its counters")]
    [Range(100, 60000)]
    public int CounterUpdateIntervalMs { get; set; } = 1000;

    [Setting("HISTORY_LENGTH", "number of samples kept per chart")]
    [Range(10, 10000)]
    public int HistoryLength { get; set; } = 100;

    internal IEnumerable<SettingError> Validate()
    {
        if (!Path.StartsWith('/') || Path.Length < 2 || Path.Any(char.IsWhiteSpace))
        {
            yield return new SettingError("NOORG_DASHBOARD_PATH", Path, "expected a path such as /dashboard (leading '/', no spaces)");
        }
    }
}
