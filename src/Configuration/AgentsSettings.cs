using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_AGENTS", "Agents")]
public sealed class AgentsSettings
{
    [Setting("HEARTBEAT_TIMEOUT_SECONDS", "an agent without a heartbeat for this long goes offline and its tasks are handed back")]
    [Range(1, 86400)]
    public int HeartbeatTimeoutSeconds { get; set; } = 30;

    [Setting("HISTORY_LIMIT", "history entries kept per agent; older ones are dropped, the count is kept")]
    [Range(10, 100000)]
    public int HistoryLimit { get; set; } = 500;
}
