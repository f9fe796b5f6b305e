using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using NoOrg.Configuration;
using NoOrg.Storage;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Webhook subscriptions in table <c>noorg_webhooks</c> (migration 0009), with a per-silo snapshot that is
/// re-read every <c>NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS</c> (and at once after a change made on this silo), so
/// matching an event against the subscriptions costs no database round trip.
/// </summary>
public sealed class WebhookDirectory(IndexDatabase database, NoOrgSettings settings, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim reload = new(1, 1);
    private Snapshot? snapshot;

    /// <summary>The ids of the subscriptions that want events of <paramref name="eventType"/>.</summary>
    public async Task<IReadOnlyList<string>> MatchingAsync(string eventType)
    {
        var current = await CurrentAsync();
        return [.. current.Subscriptions.Where(s => s.Subscription.Events.Any(p => Matches(p, eventType))).Select(s => s.Subscription.Id)];
    }

    /// <summary>The subscription and its secret; null when it no longer exists.</summary>
    internal async Task<(WebhookSubscription Subscription, string Secret)?> FindAsync(string id)
    {
        var current = await CurrentAsync();
        var found = current.Subscriptions.FirstOrDefault(s => s.Subscription.Id == id);
        if (found.Subscription is null)
        {
            // Perhaps added on another silo since the last read: one fresh look before calling it gone.
            current = await CurrentAsync(force: true);
            found = current.Subscriptions.FirstOrDefault(s => s.Subscription.Id == id);
        }

        return found.Subscription is null ? null : found;
    }

    internal async Task<IReadOnlyList<WebhookSubscription>> ListAsync() =>
        [.. (await CurrentAsync(force: true)).Subscriptions.Select(s => s.Subscription)];

    internal async Task AddAsync(WebhookSubscription subscription, string secret)
    {
        await using (var connection = await OpenAsync())
        await using (var insert = connection.CreateCommand(null,
            "INSERT INTO noorg_webhooks (id, url, events, secret, description, created_at) VALUES (@id, @url, "
            + (database.Dialect == StorageDialect.Postgres ? "CAST(@events AS jsonb)" : "@events") + ", @secret, @description, @created)"))
        {
            insert.AddParameter("id", subscription.Id);
            insert.AddParameter("url", subscription.Url);
            insert.AddParameter("events", JsonSerializer.Serialize(subscription.Events));
            insert.AddParameter("secret", secret);
            insert.AddParameter("description", subscription.Description);
            insert.AddParameter("created", database.Dialect == StorageDialect.Postgres
                ? subscription.CreatedAt.UtcDateTime
                : subscription.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            await insert.ExecuteNonQueryAsync();
        }

        snapshot = null;
    }

    internal async Task<bool> RemoveAsync(string id)
    {
        int removed;
        await using (var connection = await OpenAsync())
        await using (var delete = connection.CreateCommand(null, "DELETE FROM noorg_webhooks WHERE id = @id"))
        {
            delete.AddParameter("id", id);
            removed = await delete.ExecuteNonQueryAsync();
        }

        snapshot = null;
        return removed > 0;
    }

    /// <summary>Exact type, <c>*</c> for everything, or a prefix ending in <c>*</c> (<c>task.*</c>).</summary>
    public static bool Matches(string pattern, string eventType)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return pattern.EndsWith('*')
            ? eventType.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, eventType, StringComparison.Ordinal);
    }

    public void Dispose() => reload.Dispose();

    private async Task<Snapshot> CurrentAsync(bool force = false)
    {
        var refresh = TimeSpan.FromSeconds(settings.Outbox.WebhookRefreshSeconds);
        if (!force && snapshot is { } fresh && clock.GetUtcNow() - fresh.ReadAt < refresh)
        {
            return fresh;
        }

        await reload.WaitAsync();
        try
        {
            if (!force && snapshot is { } other && clock.GetUtcNow() - other.ReadAt < refresh)
            {
                return other;
            }

            var readAt = clock.GetUtcNow();
            var rows = new List<(WebhookSubscription, string)>();
            await using var connection = await OpenAsync();
            await using var select = connection.CreateCommand(null,
                "SELECT id, url, " + (database.Dialect == StorageDialect.Postgres ? "events::text" : "events")
                + ", secret, description, created_at FROM noorg_webhooks ORDER BY created_at, id");
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var created = reader.GetValue(5) switch
                {
                    DateTime t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)),
                    DateTimeOffset t => t,
                    var text => DateTimeOffset.Parse(Convert.ToString(text, CultureInfo.InvariantCulture)!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                };
                var subscription = new WebhookSubscription(reader.GetString(0), reader.GetString(1),
                    JsonSerializer.Deserialize<string[]>(reader.GetString(2)) ?? [], reader.GetValue(4) as string, created);
                rows.Add((subscription, reader.GetString(3)));
            }

            var next = new Snapshot(rows, readAt);
            snapshot = next;
            return next;
        }
        finally
        {
            reload.Release();
        }
    }

    private Task<DbConnection> OpenAsync() => database.OpenAsync(CancellationToken.None);

    private sealed record Snapshot(IReadOnlyList<(WebhookSubscription Subscription, string Secret)> Subscriptions, DateTimeOffset ReadAt);
}
