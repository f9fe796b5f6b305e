using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_REMINDERS", "Reminders")]
public sealed class RemindersSettings
{
    [Setting("MINIMUM_PERIOD_SECONDS", "shortest reminder period accepted; Orleans' production floor is 60, lower values are for tests")]
    [Range(1, 86400)]
    public int MinimumPeriodSeconds { get; set; } = 60;

    internal IEnumerable<SettingError> Validate(GeneralSettings general)
    {
        if (general.IsProduction && MinimumPeriodSeconds < 60)
        {
            yield return new SettingError("NOORG_REMINDERS_MINIMUM_PERIOD_SECONDS", MinimumPeriodSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "must be at least 60 in production: reminders are durable timers, not a fast tick");
        }
    }
}
