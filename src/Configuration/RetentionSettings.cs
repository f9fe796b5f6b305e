using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace NoOrg.Configuration;

/// <summary>How long NoOrg keeps what grows with use, and how its clean-up runs (docs/retention.md).</summary>
[SettingsArea("NOORG_RETENTION", "Retention")]
public sealed class RetentionSettings
{
    [Setting("INTERVAL_SECONDS", "how often the retention clean-up runs (a grain reminder; never below the reminder minimum)")]
    [Range(1, 604_800)]
    public int IntervalSeconds { get; set; } = 3600;

    [Setting("BATCH_SIZE", "rows (or sagas) one clean-up statement removes; each batch is its own short transaction")]
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;

    [Setting("MAX_PER_RUN", "most rows (or sagas) of one kind a clean-up run removes; the next run continues")]
    [Range(1, 10_000_000)]
    public int MaxPerRun { get; set; } = 10_000;

    [Setting("SAGA_HOURS", "finished sagas and scopes (completed, compensated, cancelled) older than this are removed whole: state, log, step grains, index row")]
    [Range(0.0001, 876_000)]
    public double SagaHours { get; set; } = 720;

    [Setting("RESOLVED_ISSUE_HOURS", "health issues resolved longer ago than this are removed (open issues are always kept)")]
    [Range(0.0001, 876_000)]
    public double ResolvedIssueHours { get; set; } = 720;

    [Setting("DEAD_LETTER_HOURS", "dead-lettered outbox messages untouched for this long are removed (retry them before that)")]
    [Range(0.0001, 876_000)]
    public double DeadLetterHours { get; set; } = 720;

    [Setting("DEFUNCT_SILO_MINUTES", "how long a dead silo stays in the membership table (Orleans DefunctSiloExpiration and DefunctSiloMinimumRetention; fractions allowed)")]
    [Range(0.001, 525_600)]
    public double DefunctSiloMinutes { get; set; } = 60;

    [Setting("DEFUNCT_SILO_CLEANUP_MINUTES", "how often silos remove expired dead rows from the membership table, at the latest at the next membership change after it (Orleans DefunctSiloCleanupPeriod; fractions allowed)")]
    [Range(0.001, 10_080)]
    public double DefunctSiloCleanupMinutes { get; set; } = 10;

    internal IEnumerable<SettingError> Validate()
    {
        if (BatchSize > MaxPerRun)
        {
            yield return new SettingError("NOORG_RETENTION_BATCH_SIZE", BatchSize.ToString(CultureInfo.InvariantCulture),
                $"must not exceed NOORG_RETENTION_MAX_PER_RUN ({MaxPerRun})");
        }
    }
}
