using System.Data.Common;
using System.Globalization;

namespace NoOrg.Storage.Statistics;

/// <summary>How much one kind of data holds: rows, bytes of row data, its oldest entry and its last clean-up.</summary>
public sealed record DataKindStatistics(
    string Kind, string Table, long Rows, long Bytes, DateTimeOffset? Oldest, DateTimeOffset? LastCleanup, long? LastRemoved, long? RemovedTotal);

/// <summary>
/// Reads <see cref="DataKindStatistics"/> for every kind of data NoOrg keeps (docs/retention.md), straight from the
/// database, so it answers with the cluster down too. Bytes are the stored size of the rows' data
/// (<c>pg_column_size</c> on PostgreSQL, the length of the columns on SQLite), without indexes.
/// </summary>
public static class DataStatistics
{
    private sealed record Kind(string Name, string Table, string Where, string? OldestColumn, string SqliteBytes, bool UnixMillis = false, bool PostgresOnly = false);

    private const string SagaStates = "state_name IN ('saga', 'saga-step', 'saga-compensation')";

    private static readonly Kind[] Kinds =
    [
        new("tasks", "noorg_tasks", "", "created_at", "length(id) + length(name) + length(type) + 200"),
        new("task-events", "noorg_task_events", "", null, "length(event) + 16"),
        new("task-samples", "noorg_task_samples", "", "completed_at", "length(task_id) + length(type) + ifnull(length(agent_id), 0) + 40"),
        new("task-states", "orleans_grain_state", "state_name = 'task'", "modified_at", "ifnull(length(payload), 0) + 100"),
        new("sagas", "noorg_sagas", "", "created_at", "length(id) + length(definition) + length(status) + 48", UnixMillis: true),
        new("saga-states", "orleans_grain_state", SagaStates, "modified_at", "ifnull(length(payload), 0) + 100"),
        new("agents", "noorg_agents", "", null, "length(agent_id) + 200"),
        new("agent-events", "noorg_agent_events", "", null, "length(event) + 16"),
        new("health-issues", "noorg_health_issues", "", "opened_at", "length(issue_id) + length(detail) + 120"),
        new("outbox", "noorg_outbox", "dead = {false}", "updated_at", "length(message) + 120"),
        new("dead-letters", "noorg_outbox", "dead = {true}", "updated_at", "length(message) + ifnull(length(last_error), 0) + 120"),
        new("inbox", "noorg_inbox", "", "handled_at", "length(receiver) + length(message_id) + 32"),
        new("grain-states", "orleans_grain_state", "", "modified_at", "ifnull(length(payload), 0) + 100"),
        new("reminders", "orleans_reminders", "", null, "200"),
        new("membership", "orleans_membership", "", "start_time", "200", PostgresOnly: true), // SQLite clusters keep membership in memory
    ];

    /// <summary>The kinds in the order they are reported.</summary>
    public static IReadOnlyList<string> KindNames { get; } = [.. Kinds.Select(k => k.Name)];

    public static async Task<IReadOnlyList<DataKindStatistics>> ReadAsync(DbConnection connection, StorageDialect dialect, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var runs = await RunsAsync(connection, cancellationToken);
        var result = new List<DataKindStatistics>();
        foreach (var kind in Kinds.Where(k => dialect == StorageDialect.Postgres || !k.PostgresOnly))
        {
            var where = kind.Where.Replace("{true}", dialect == StorageDialect.Postgres ? "true" : "1", StringComparison.Ordinal)
                .Replace("{false}", dialect == StorageDialect.Postgres ? "false" : "0", StringComparison.Ordinal);
            var bytes = dialect == StorageDialect.Postgres ? "pg_column_size(t.*)" : kind.SqliteBytes;
            var oldest = kind.OldestColumn is null ? "NULL" : $"MIN({kind.OldestColumn})";
            await using var command = connection.CreateCommand(null,
                $"SELECT COUNT(*), COALESCE(SUM({bytes}), 0), {oldest} FROM {kind.Table} AS t{(where.Length == 0 ? "" : " WHERE " + where)}");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var rows = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
            var size = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            var first = Time(reader.GetValue(2), kind.UnixMillis);
            runs.TryGetValue(kind.Name, out var run);
            result.Add(new DataKindStatistics(kind.Name, kind.Table, rows, size, first, run.At, run.At is null ? null : run.Removed, run.At is null ? null : run.Total));
        }

        return result;
    }

    private static async Task<Dictionary<string, (DateTimeOffset? At, long Removed, long Total)>> RunsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var runs = new Dictionary<string, (DateTimeOffset?, long, long)>(StringComparer.Ordinal);
        await using var command = connection.CreateCommand(null, "SELECT kind, last_run_at, removed, removed_total FROM noorg_retention_runs");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs[reader.GetString(0)] = (Time(reader.GetValue(1), false),
                Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture));
        }

        return runs;
    }

    private static DateTimeOffset? Time(object value, bool unixMillis) => value switch
    {
        DBNull or null => null,
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        DateTimeOffset time => time.ToUniversalTime(),
        long or int when unixMillis => DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        string text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
        _ => null,
    };
}
