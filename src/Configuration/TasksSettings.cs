using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_TASKS", "Tasks")]
public sealed class TasksSettings
{
    [Setting("MAX_INPUT_BYTES", "largest accepted task input (UTF-8 JSON)")]
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxInputBytes { get; set; } = 64 * 1024;

    [Setting("RETENTION_DAYS", "finished (completed, failed, cancelled) tasks older than this are removed (fractions allowed: 0.5 is 12 hours)")]
    [Range(0.00001, 3650)]
    public double RetentionDays { get; set; } = 30;

    [Setting("CLEANUP_INTERVAL_MINUTES", "how often the retention clean-up runs (a grain reminder)")]
    [Range(1, 10080)]
    public int CleanupIntervalMinutes { get; set; } = 60;

    [Setting("SAMPLE_WINDOW", "completion samples statistics and estimates read (the newest, per type and per type and agent); retention keeps exactly these, and those of the last 5 minutes (completions per minute)")]
    [Range(10, 100_000)]
    public int SampleWindow { get; set; } = 1000;

    [Setting("HISTORY_LIMIT", "history entries kept per task (rows appended with each change); older ones are dropped, the count is kept")]
    [Range(10, 1000000)]
    public int HistoryLimit { get; set; } = 100000;
}
