using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_ALERTS", "Alerts")]
public sealed class AlertsSettings
{
    [Setting("EVALUATION_SECONDS", "how often every alert rule is evaluated (one grain's timer; its reminder, never below the reminder minimum, restarts it after a silo loss)")]
    [Range(1, 86400)]
    public int EvaluationSeconds { get; set; } = 30;
}
