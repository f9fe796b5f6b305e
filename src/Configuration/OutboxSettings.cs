using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_OUTBOX", "Outbox, inbox and webhooks")]
public sealed class OutboxSettings
{
    [Setting("RETRY_BASE_MS", "first retry delay of a failed delivery; doubles per attempt, with jitter")]
    [Range(10, 600_000)]
    public int RetryBaseMs { get; set; } = 1000;

    [Setting("RETRY_MAX_SECONDS", "longest delay between two delivery attempts")]
    [Range(1, 86_400)]
    public int RetryMaxSeconds { get; set; } = 300;

    [Setting("MAX_ATTEMPTS", "delivery attempts before a message is dead-lettered (kept, visible, retryable)")]
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 12;

    [Setting("SWEEP_SECONDS", "how often the sweeper wakes grains whose outbox rows are left over (due, untouched for this long)")]
    [Range(1, 3600)]
    public int SweepSeconds { get; set; } = 30;

    [Setting("INBOX_RETENTION_HOURS", "how long receivers remember handled message ids; must outlast every redelivery")]
    [Range(0.0001, 87_600)]
    public double InboxRetentionHours { get; set; } = 168;

    [Setting("WEBHOOK_TIMEOUT_SECONDS", "timeout of one webhook request")]
    [Range(1, 300)]
    public int WebhookTimeoutSeconds { get; set; } = 10;

    [Setting("WEBHOOK_REFRESH_SECONDS", "how often each silo re-reads the webhook subscriptions (changes on the same silo apply at once)")]
    [Range(1, 3600)]
    public int WebhookRefreshSeconds { get; set; } = 5;

    public IEnumerable<SettingError> Validate()
    {
        // A redelivery after the inbox forgot the id would be handled twice.
        var longestRedelivery = TimeSpan.FromSeconds((double)RetryMaxSeconds * MaxAttempts);
        if (TimeSpan.FromHours(InboxRetentionHours) <= longestRedelivery)
        {
            yield return new SettingError("NOORG_OUTBOX_INBOX_RETENTION_HOURS", InboxRetentionHours.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"must outlast the longest redelivery window (MAX_ATTEMPTS x RETRY_MAX_SECONDS = {longestRedelivery.TotalHours:0.#} h)");
        }
    }
}
