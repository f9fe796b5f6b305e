using System.Data.Common;
using NoOrg.Storage;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Reads outboxes across grains straight from the grain-state table, through the partial indexes of migration
/// 0009: which stored states still hold pending messages or dead letters. Rows are named by state name (one per
/// grain type, a NoOrg convention) and the grain's string key, which <see cref="OutboxRegistry"/> turns back into
/// a grain.
/// </summary>
public sealed class SqlOutboxStore(IndexDatabase database)
{
    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    private string HasPending => IsPostgres ? "(payload #> '{Outbox,Pending,0}') IS NOT NULL" : "json_extract(payload, '$.Outbox.Pending[0]') IS NOT NULL";

    private string HasDead => IsPostgres ? "(payload #> '{Outbox,Dead,0}') IS NOT NULL" : "json_extract(payload, '$.Outbox.Dead[0]') IS NOT NULL";

    /// <summary>States with pending messages not written for <paramref name="quietSeconds"/> (oldest first).</summary>
    public async Task<IReadOnlyList<(string StateName, string Key)>> PendingAsync(string serviceId, int quietSeconds, int limit)
    {
        var quiet = IsPostgres
            ? "modified_at < now() - make_interval(secs => @quiet)"
            : "modified_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || @quiet || ' seconds')";
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            $"SELECT state_name, grain_id_string FROM orleans_grain_state WHERE {HasPending} AND {quiet} AND service_id = @service " +
            "AND grain_id_string IS NOT NULL ORDER BY modified_at LIMIT @limit");
        select.AddParameter("quiet", quietSeconds);
        select.AddParameter("service", serviceId);
        select.AddParameter("limit", limit);
        var rows = new List<(string, string)>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<OutboxSummary>> SummaryAsync(string serviceId)
    {
        var pendingCount = IsPostgres ? "jsonb_array_length(payload #> '{Outbox,Pending}')" : "json_array_length(payload, '$.Outbox.Pending')";
        var deadCount = IsPostgres ? "jsonb_array_length(payload #> '{Outbox,Dead}')" : "json_array_length(payload, '$.Outbox.Dead')";
        var totals = new Dictionary<string, (int Grains, int Messages, int DeadGrains, int Dead)>(StringComparer.Ordinal);
        await using var connection = await OpenAsync();
        foreach (var (filter, count, dead) in new[] { (HasPending, pendingCount, false), (HasDead, deadCount, true) })
        {
            await using var select = connection.CreateCommand(null,
                $"SELECT state_name, COUNT(*), SUM({count}) FROM orleans_grain_state WHERE {filter} AND service_id = @service GROUP BY state_name");
            select.AddParameter("service", serviceId);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var name = reader.GetString(0);
                var grains = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
                var messages = Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture);
                totals.TryGetValue(name, out var t);
                totals[name] = dead ? t with { DeadGrains = grains, Dead = messages } : t with { Grains = grains, Messages = messages };
            }
        }

        return [.. totals.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new OutboxSummary(t.Key, t.Value.Grains, t.Value.Messages, t.Value.DeadGrains, t.Value.Dead))];
    }

    public async Task<IReadOnlyList<OutboxDeadHost>> DeadHostsAsync(string serviceId, int take)
    {
        var deadCount = IsPostgres ? "jsonb_array_length(payload #> '{Outbox,Dead}')" : "json_array_length(payload, '$.Outbox.Dead')";
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            $"SELECT state_name, grain_id_string, {deadCount} FROM orleans_grain_state WHERE {HasDead} AND service_id = @service " +
            "AND grain_id_string IS NOT NULL ORDER BY state_name, grain_id_string LIMIT @take");
        select.AddParameter("service", serviceId);
        select.AddParameter("take", take);
        var rows = new List<OutboxDeadHost>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new OutboxDeadHost(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return rows;
    }

    private Task<DbConnection> OpenAsync() => database.OpenAsync(CancellationToken.None);
}
