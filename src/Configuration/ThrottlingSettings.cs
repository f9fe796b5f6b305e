using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_THROTTLING", "Throttling")]
public sealed class ThrottlingSettings
{
    [Setting("POLICY_REFRESH_SECONDS", "how often an active limiter re-reads its policy, so a changed limit applies everywhere within this time")]
    [Range(1, 300)]
    public int PolicyRefreshSeconds { get; set; } = 5;
}
