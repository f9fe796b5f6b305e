using System.Globalization;
using NoOrg.Storage;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>Reads, with plain SQL, what a grain left in storage: its state row's version, and its rows in noorg_outbox.</summary>
internal sealed class OutboxTableRows(StorageDialect dialect, string connectionString)
{
    /// <summary>One stored outbox row, in recording order.</summary>
    public sealed record Row(string MessageId, string TargetKind, int Attempts, bool Dead, string? LastError);

    /// <summary>The version and modification time of a grain's state row: they move with every write of it.</summary>
    public async Task<(int Version, string ModifiedAt)> StateAsync(string stateName, string key)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        await using var select = connection.CreateCommand(null,
            $"SELECT version, {(dialect == StorageDialect.Postgres ? "modified_at::text" : "modified_at")} FROM orleans_grain_state " +
            "WHERE state_name = @state AND grain_id_string = @key");
        select.AddParameter("state", stateName);
        select.AddParameter("key", key);
        await using var reader = await select.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? (Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture), reader.GetString(1))
            : throw new InvalidOperationException($"no state row for {stateName} {key}");
    }

    public async Task<IReadOnlyList<Row>> RowsAsync(string stateName, string key)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        await using var select = connection.CreateCommand(null,
            "SELECT message_id, target_kind, attempts, dead, last_error FROM noorg_outbox WHERE state_name = @state AND grain_key = @key ORDER BY seq");
        select.AddParameter("state", stateName);
        select.AddParameter("key", key);
        var rows = new List<Row>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture),
                reader.GetBoolean(3), await reader.IsDBNullAsync(4) ? null : reader.GetString(4)));
        }

        return rows;
    }
}
