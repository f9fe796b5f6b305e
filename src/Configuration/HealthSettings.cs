using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_HEALTH", "Health endpoints")]
public sealed class HealthSettings
{
    [Setting("READY_STORAGE_TIMEOUT_SECONDS", "how long /health/ready waits for the database before reporting not ready")]
    [Range(1, 300)]
    public int ReadyStorageTimeoutSeconds { get; set; } = 5;
}
