using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NoOrg.Storage;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Table <c>noorg_outbox</c> (migration 0015): one row per recorded message and target, inserted by the database
/// from the host grain's state write. The relays read their own grain's rows, record failed attempts and delete
/// delivered rows; the sweeper reads across grains. Rows are named by state name (one per grain type, a NoOrg
/// convention) and the grain's string key, which <see cref="OutboxRegistry"/> turns back into a grain.
/// </summary>
public sealed class SqlOutboxStore(IndexDatabase database)
{
    /// <summary>Rows per DELETE statement (7 parameters each, well inside both databases' limits).</summary>
    internal const int DeleteChunk = 200;

    private const string SqliteTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const string KeyColumns = "service_id, state_name, grain_key, message_id, target_kind, target_address, target_key";

    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    private string Now => IsPostgres ? "now()" : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

    private string IsDead => IsPostgres ? "dead" : "dead = 1";

    private string IsLive => IsPostgres ? "NOT dead" : "dead = 0";

    /// <summary>The rows of one grain in the order they were recorded, dead letters included.</summary>
    internal async Task<IReadOnlyList<OutboxRow>> LoadAsync(OutboxOwner owner)
    {
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            $"SELECT {(IsPostgres ? "message::text" : "message")}, target_kind, target_address, target_key, attempts, next_attempt_at, last_error, dead " +
            "FROM noorg_outbox WHERE service_id = @service AND state_name = @state AND grain_key = @key ORDER BY seq");
        AddOwner(select, owner);
        var rows = new List<OutboxRow>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var message = JsonSerializer.Deserialize<OutboxMessage>(reader.GetString(0))
                ?? throw new InvalidOperationException($"An empty message in noorg_outbox for {owner.StateName} {owner.Key}.");
            var target = Target(reader.GetString(1), reader.GetString(2), reader.GetString(3));
            var entry = new OutboxEntry(message, target, reader.GetInt32(4), await reader.IsDBNullAsync(5) ? null : Time(reader, 5),
                await reader.IsDBNullAsync(6) ? null : reader.GetString(6));
            rows.Add(new OutboxRow(entry, reader.GetBoolean(7)));
        }

        return rows;
    }

    /// <summary>Stores the outcome of failed attempts: the entry's attempts, next attempt and last error, and whether it is now a dead letter.</summary>
    internal async Task RecordAttemptsAsync(OutboxOwner owner, IReadOnlyList<OutboxRow> rows)
    {
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var row in rows)
        {
            await using var update = connection.CreateCommand(transaction,
                $"UPDATE noorg_outbox SET attempts = @attempts, next_attempt_at = @next, last_error = @error, dead = @dead, updated_at = {Now} " +
                "WHERE service_id = @service AND state_name = @state AND grain_key = @key AND message_id = @id " +
                "AND target_kind = @kind AND target_address = @address AND target_key = @target_key");
            AddOwner(update, owner);
            AddTarget(update, row.Entry.Message.Id, row.Entry.Target);
            update.AddParameter("attempts", row.Entry.Attempts);
            AddTime(update, "next", row.Entry.NextAttemptAt);
            update.AddParameter("error", row.Entry.LastError);
            update.AddParameter("dead", row.Dead);
            await update.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Deletes delivered rows, of any grains, in one transaction.</summary>
    internal async Task DeleteAsync(IReadOnlyList<OutboxRowKey> keys)
    {
        if (keys.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var chunk in keys.Chunk(DeleteChunk))
        {
            await using var delete = connection.CreateCommand(transaction, "");
            var values = new StringBuilder();
            for (var i = 0; i < chunk.Length; i++)
            {
                var k = chunk[i];
                values.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@s{i}, @n{i}, @g{i}, @m{i}, @k{i}, @a{i}, @t{i})");
                delete.AddParameter($"s{i}", k.Owner.ServiceId);
                delete.AddParameter($"n{i}", k.Owner.StateName);
                delete.AddParameter($"g{i}", k.Owner.Key);
                delete.AddParameter($"m{i}", k.MessageId);
                delete.AddParameter($"k{i}", k.Target.Kind.ToString());
                delete.AddParameter($"a{i}", k.Target.Address);
                delete.AddParameter($"t{i}", k.Target.Key ?? "");
            }

            delete.CommandText = $"DELETE FROM noorg_outbox WHERE ({KeyColumns}) IN (VALUES {values})";
            await delete.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Dead letters of one grain (all, or those of one message id) back to pending with fresh attempts; returns how many.</summary>
    internal async Task<int> ReviveAsync(OutboxOwner owner, string? messageId)
    {
        await using var connection = await OpenAsync();
        await using var update = connection.CreateCommand(null,
            $"UPDATE noorg_outbox SET dead = @live, attempts = 0, next_attempt_at = NULL, updated_at = {Now} " +
            $"WHERE service_id = @service AND state_name = @state AND grain_key = @key AND {IsDead}" + (messageId is null ? "" : " AND message_id = @id"));
        AddOwner(update, owner);
        update.AddParameter("live", false);
        if (messageId is not null)
        {
            update.AddParameter("id", messageId);
        }

        return await update.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Grains holding messages that are due and whose rows nobody touched for <paramref name="quietSeconds"/> (oldest
    /// first): their relay is gone, or never loaded them. A relay that is alive and retrying keeps its rows fresh.
    /// </summary>
    public async Task<IReadOnlyList<(string StateName, string Key)>> PendingAsync(string serviceId, int quietSeconds, int limit)
    {
        var quiet = IsPostgres
            ? "updated_at < now() - make_interval(secs => @quiet)"
            : "updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || @quiet || ' seconds')";
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            $"SELECT state_name, grain_key FROM noorg_outbox WHERE service_id = @service AND {IsLive} AND {quiet} " +
            $"AND (next_attempt_at IS NULL OR next_attempt_at <= {Now}) GROUP BY state_name, grain_key ORDER BY min(updated_at) LIMIT @limit");
        select.AddParameter("service", serviceId);
        select.AddParameter("quiet", quietSeconds);
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
        var totals = new SortedDictionary<string, OutboxSummary>(StringComparer.Ordinal);
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            "SELECT state_name, dead, COUNT(DISTINCT grain_key), COUNT(*) FROM noorg_outbox WHERE service_id = @service GROUP BY state_name, dead");
        select.AddParameter("service", serviceId);
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0);
            var grains = Count(reader.GetValue(2));
            var messages = Count(reader.GetValue(3));
            var t = totals.GetValueOrDefault(name) ?? new OutboxSummary(name, 0, 0, 0, 0);
            totals[name] = reader.GetBoolean(1)
                ? t with { GrainsWithDeadLetters = grains, DeadLetters = messages }
                : t with { GrainsWithPending = grains, PendingMessages = messages };
        }

        return [.. totals.Values];
    }

    public async Task<IReadOnlyList<OutboxDeadHost>> DeadHostsAsync(string serviceId, int take)
    {
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null,
            $"SELECT state_name, grain_key, COUNT(*) FROM noorg_outbox WHERE service_id = @service AND {IsDead} " +
            "GROUP BY state_name, grain_key ORDER BY state_name, grain_key LIMIT @take");
        select.AddParameter("service", serviceId);
        select.AddParameter("take", take);
        var rows = new List<OutboxDeadHost>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new OutboxDeadHost(reader.GetString(0), reader.GetString(1), Count(reader.GetValue(2))));
        }

        return rows;
    }

    /// <summary>A target as its row spells it: the kind's name, and '' for "no key" (the key is part of the row's primary key).</summary>
    private static OutboxTarget Target(string kind, string address, string key)
    {
        if (!Enum.TryParse<OutboxTargetKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
        {
            throw new InvalidOperationException($"noorg_outbox holds an unknown target kind '{kind}' (address {address}).");
        }

        return new OutboxTarget(parsed, address, parsed == OutboxTargetKind.Stream || key.Length > 0 ? key : null);
    }

    private static void AddOwner(DbCommand command, OutboxOwner owner)
    {
        command.AddParameter("service", owner.ServiceId);
        command.AddParameter("state", owner.StateName);
        command.AddParameter("key", owner.Key);
    }

    private static void AddTarget(DbCommand command, string messageId, OutboxTarget target)
    {
        command.AddParameter("id", messageId);
        command.AddParameter("kind", target.Kind.ToString());
        command.AddParameter("address", target.Address);
        command.AddParameter("target_key", target.Key ?? "");
    }

    private void AddTime(DbCommand command, string name, DateTimeOffset? time) => command.AddParameter(name, time is not { } t
        ? null
        : IsPostgres ? t.UtcDateTime : t.UtcDateTime.ToString(SqliteTimeFormat, CultureInfo.InvariantCulture));

    private DateTimeOffset Time(DbDataReader reader, int ordinal) => IsPostgres
        ? new DateTimeOffset(reader.GetDateTime(ordinal).ToUniversalTime(), TimeSpan.Zero)
        : DateTimeOffset.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static int Count(object value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    private Task<DbConnection> OpenAsync() => database.OpenAsync(CancellationToken.None);
}
