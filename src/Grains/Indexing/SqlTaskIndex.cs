using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;

namespace NoOrg.Grains.Indexing;

/// <summary>
/// <see cref="ITaskIndex"/> in the cluster's own database (tables from migration 0006): one row per task, aggregate
/// counters adjusted by each projection, and one sample per completion. Every query is served by an index or by
/// the counters, so its cost does not grow with the number of stored tasks (except listing's filtered count when
/// filters are combined).
/// </summary>
internal sealed class SqlTaskIndex(IndexDatabase database) : ITaskIndex
{
    public const int MaxPageSize = 1000;

    /// <summary>Statistics and estimates read this many of the newest completion samples.</summary>
    public const int SampleWindow = 1000;

    public const int CounterSlots = 16;

    public static readonly TimeSpan CompletionRateWindow = TimeSpan.FromMinutes(5);

    private const string SqliteTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private const string UniqueViolation = "23505";
    private const string StateDimension = "state";
    private const string PriorityDimension = "priority";
    private const string TypeDimension = "type";
    private const string OutcomeDimension = "outcome";

    private const string Columns =
        "id, name, type, state, priority, assigned_to, attempt, created_at, updated_at, finished_at, next_attempt_at, waiting_count, required_capabilities, version";

    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    public async Task ProjectAsync(TaskSnapshot task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        await using var connection = await OpenAsync(cancellationToken);

        // Re-projecting an unchanged task (every activation does) costs one read and no write lock.
        if (await ReadStoredAsync(connection, null, task.Id, cancellationToken) is { } current && !Supersedes(task, current))
        {
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            StoredRow? old = null;
            try
            {
                await using var transaction = await BeginWriteAsync(connection, cancellationToken);
                old = await ReadStoredAsync(connection, transaction, task.Id, cancellationToken);
                if (old is not null && !Supersedes(task, old))
                {
                    return; // a newer version got here first
                }

                await using var command = WriteCommand(connection, transaction, task, old);
                await command.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return;
            }
            catch (DbException e) when (old is null && e.SqlState == UniqueViolation && attempt < 3)
            {
                // Another projection of the same task inserted the first row concurrently: compare with it instead.
            }
        }
    }

    public async Task RemoveAsync(string taskId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken);
        StoredRow? removed;
        await using (var delete = Command(connection, transaction,
            "DELETE FROM noorg_tasks WHERE id = @id RETURNING state, priority, type, version, created_at"))
        {
            Add(delete, "@id", taskId);
            await using var reader = await delete.ExecuteReaderAsync(cancellationToken);
            removed = await reader.ReadAsync(cancellationToken) ? ReadStored(reader) : null;
        }

        if (removed is not null)
        {
            var counters = new CounterDeltas(Slot(taskId));
            counters.Remove(removed);
            await using var update = Command(connection, transaction, "");
            counters.AppendTo(update);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Page<TaskSummary>> QueryAsync(TaskQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Take, 1);
        var take = Math.Min(query.Take, MaxPageSize);

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "");
        var where = Filter(query, command);
        command.CommandText =
            "SELECT id, name, type, state, priority, assigned_to, attempt, created_at, updated_at FROM noorg_tasks"
            + where + " ORDER BY created_at, id LIMIT @take OFFSET @skip;\n" + TotalSql(query, where, command);
        Add(command, "@take", take);
        Add(command, "@skip", query.Skip);

        var items = new List<TaskSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var assignedTo = await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetString(5);
            items.Add(new TaskSummary(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), ParseState(reader.GetString(3)),
                (TaskPriority)Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture),
                assignedTo, Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture),
                ReadTime(reader, 7), ReadTime(reader, 8)));
        }

        await reader.NextResultAsync(cancellationToken);
        var total = await reader.ReadAsync(cancellationToken) && !await reader.IsDBNullAsync(0, cancellationToken)
            ? Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture)
            : 0;
        return new Page<TaskSummary>(items, total, query.Skip);
    }

    public async Task<TaskStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"""
            SELECT dimension, value, CAST(SUM(tally) AS bigint) FROM noorg_task_counts GROUP BY dimension, value;
            SELECT processing_ms FROM noorg_task_samples ORDER BY completed_at DESC, id DESC LIMIT {SampleWindow};
            SELECT COUNT(*) FROM noorg_task_samples WHERE completed_at > @since AND completed_at <= @now;
            """);
        Add(command, "@since", Time(now - CompletionRateWindow));
        Add(command, "@now", Time(now));

        var byState = Enum.GetValues<TaskState>().ToDictionary(s => s, _ => 0L);
        var byPriority = Enum.GetValues<TaskPriority>().ToDictionary(p => p, _ => 0L);
        var byType = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long completed = 0, failed = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var value = reader.GetString(1);
            var count = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
            switch (reader.GetString(0))
            {
                case StateDimension:
                    byState[ParseState(value)] = count;
                    break;
                case PriorityDimension:
                    byPriority[ParsePriority(value)] = count;
                    break;
                case TypeDimension when count != 0:
                    byType[value] = count;
                    break;
                case OutcomeDimension when value == StateName(TaskState.Completed):
                    completed = count;
                    break;
                case OutcomeDimension when value == StateName(TaskState.Failed):
                    failed = count;
                    break;
            }
        }

        await reader.NextResultAsync(cancellationToken);
        var samples = await ReadSamplesAsync(reader, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var recent = await reader.ReadAsync(cancellationToken) ? Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) : 0;

        return new TaskStatistics(
            byState.Values.Sum(),
            byState,
            byPriority,
            byType,
            samples.Count == 0 ? null : TimeSpan.FromMilliseconds(NearestRank.Percentile(samples, 50)),
            samples.Count == 0 ? null : TimeSpan.FromMilliseconds(NearestRank.Percentile(samples, 90)),
            completed + failed == 0 ? null : (double)completed / (completed + failed),
            recent / CompletionRateWindow.TotalMinutes,
            now);
    }

    public async Task<DurationEstimate?> EstimateAsync(string type, string? agentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        await using var connection = await OpenAsync(cancellationToken);
        var byAgent = agentId is null ? "" : " AND agent_id = @agent";
        await using var command = Command(connection, null,
            $"SELECT processing_ms FROM noorg_task_samples WHERE type = @type{byAgent} ORDER BY completed_at DESC, id DESC LIMIT {SampleWindow}");
        Add(command, "@type", type);
        if (agentId is not null)
        {
            Add(command, "@agent", agentId);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var samples = await ReadSamplesAsync(reader, cancellationToken);
        return samples.Count == 0
            ? null
            : new DurationEstimate(type, agentId,
                TimeSpan.FromMilliseconds(NearestRank.Percentile(samples, 50)),
                TimeSpan.FromMilliseconds(NearestRank.Percentile(samples, 90)),
                samples.Count, FromPrior: false);
    }

    public async Task<IReadOnlyList<ReadyTask>> ReadyAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);

        // The literal predicate matches the partial index ix_noorg_tasks_ready, which is already in this order.
        await using var command = Command(connection, null, """
            SELECT id, priority, required_capabilities, created_at FROM noorg_tasks
            WHERE state = 'pending' AND waiting_count = 0 AND (next_attempt_at IS NULL OR next_attempt_at <= @now)
            ORDER BY priority DESC, created_at, id
            LIMIT @limit
            """);
        Add(command, "@now", Time(now));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        var ready = new List<ReadyTask>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ready.Add(new ReadyTask(
                reader.GetString(0),
                (TaskPriority)Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                JsonSerializer.Deserialize<string[]>(reader.GetString(2)) ?? [],
                ReadTime(reader, 3)));
        }

        return ready;
    }

    public async Task<IReadOnlyList<string>> FinishedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, """
            SELECT id FROM noorg_tasks
            WHERE finished_at IS NOT NULL AND finished_at < @cutoff
            ORDER BY finished_at, id
            LIMIT @limit
            """);
        Add(command, "@cutoff", Time(cutoff));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    internal static string StateName(TaskState state) => state switch
    {
        TaskState.Pending => "pending",
        TaskState.Assigned => "assigned",
        TaskState.Running => "running",
        TaskState.Completed => "completed",
        TaskState.Failed => "failed",
        TaskState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    internal static string PriorityName(TaskPriority priority) => priority switch
    {
        TaskPriority.Low => "low",
        TaskPriority.Medium => "medium",
        TaskPriority.High => "high",
        TaskPriority.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(priority), priority, null),
    };

    private static TaskState ParseState(string name) =>
        Enum.GetValues<TaskState>().First(s => StateName(s) == name);

    private static TaskPriority ParsePriority(string name) =>
        Enum.GetValues<TaskPriority>().First(p => PriorityName(p) == name);

    /// <summary>A newer version of the same task, or the first version of a task re-created under a purged id.</summary>
    private static bool Supersedes(TaskSnapshot task, StoredRow stored) =>
        task.Version > stored.Version || Microseconds(task.CreatedAt) != stored.CreatedAt;

    private static DateTimeOffset Microseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    /// <summary>A stable slot per task (FNV-1a of the id), so its additions and subtractions meet in the same row.</summary>
    private static int Slot(string taskId)
    {
        var hash = 2166136261u;
        foreach (var c in taskId)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (int)(hash % CounterSlots);
    }

    private DbCommand WriteCommand(DbConnection connection, DbTransaction transaction, TaskSnapshot task, StoredRow? old)
    {
        var command = Command(connection, transaction, "");
        var sql = new StringBuilder(old is null
            ? $"INSERT INTO noorg_tasks ({Columns}) VALUES (@id, @name, @type, @state, @priority, @assigned_to, @attempt, @created_at, @updated_at, @finished_at, @next_attempt_at, @waiting_count, @required_capabilities, @version);"
            : """
              UPDATE noorg_tasks SET name = @name, type = @type, state = @state, priority = @priority, assigned_to = @assigned_to,
                  attempt = @attempt, created_at = @created_at, updated_at = @updated_at, finished_at = @finished_at,
                  next_attempt_at = @next_attempt_at, waiting_count = @waiting_count,
                  required_capabilities = @required_capabilities, version = @version
              WHERE id = @id;
              """);
        Add(command, "@id", task.Id);
        Add(command, "@name", task.Spec.Name);
        Add(command, "@type", task.Spec.Type);
        Add(command, "@state", StateName(task.State));
        Add(command, "@priority", (short)task.Spec.Priority);
        Add(command, "@assigned_to", task.AssignedTo);
        Add(command, "@attempt", task.Attempt);
        Add(command, "@created_at", Time(task.CreatedAt));
        Add(command, "@updated_at", Time(task.UpdatedAt));
        Add(command, "@finished_at", task.FinishedAt is { } finished ? Time(finished) : null);
        Add(command, "@next_attempt_at", task.NextAttemptAt is { } next ? Time(next) : null);
        Add(command, "@waiting_count", task.WaitingOn.Count);
        Add(command, "@required_capabilities", JsonSerializer.Serialize(task.Spec.RequiredCapabilities ?? []));
        Add(command, "@version", task.Version);

        var counters = new CounterDeltas(Slot(task.Id));
        if (old is not null)
        {
            counters.Remove(old);
        }

        counters.Add(task.State, task.Spec.Priority, task.Spec.Type);
        foreach (var outcome in new[] { TaskState.Completed, TaskState.Failed })
        {
            if (task.State == outcome && old?.State != outcome)
            {
                counters.Change(OutcomeDimension, StateName(outcome), +1);
            }
        }

        if (task.State == TaskState.Completed && old?.State != TaskState.Completed)
        {
            sql.Append("""
                INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at)
                VALUES (@id, @type, @assigned_to, @processing_ms, @completed_at);
                """);
            var processing = task.ProcessingTime ?? (task.FinishedAt - task.StartedAt) ?? TimeSpan.Zero;
            Add(command, "@processing_ms", (long)processing.TotalMilliseconds);
            Add(command, "@completed_at", Time(task.FinishedAt ?? task.UpdatedAt));
        }

        command.CommandText = sql.ToString();
        counters.AppendTo(command);
        return command;
    }

    /// <summary>
    /// The statement that counts the filtered tasks. Filters on state, type and priority alone are answered by the
    /// counters (one dimension's counters for a single filter, the group counters for a mix); only a filter on the
    /// agent or on times counts rows, through the filter's index.
    /// </summary>
    private static string TotalSql(TaskQuery query, string where, DbCommand command)
    {
        if (query.AssignedTo is not null || query.CreatedAfter is not null || query.CreatedBefore is not null
            || query.UpdatedAfter is not null || query.UpdatedBefore is not null)
        {
            return "SELECT COUNT(*) FROM noorg_tasks" + where + ";";
        }

        var filters = new (string Dimension, IEnumerable<string>? Values)[]
        {
            (StateDimension, query.States is { Count: > 0 } s ? s.Select(StateName) : null),
            (TypeDimension, query.Types is { Count: > 0 } t ? t : null),
            (PriorityDimension, query.Priorities is { Count: > 0 } p ? p.Select(PriorityName) : null),
        }.Where(f => f.Values is not null).ToArray();
        if (filters.Length > 1)
        {
            // The filter's conditions name only state, type and priority: columns the group counters have too.
            return "SELECT CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts" + where + ";";
        }

        var (dimension, values) = filters.Length == 1
            ? (filters[0].Dimension, filters[0].Values!.Distinct(StringComparer.Ordinal).ToArray())
            : (StateDimension, Enum.GetValues<TaskState>().Select(StateName).ToArray());
        var names = values.Select((_, i) => "@count_value" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        Add(command, "@count_dimension", dimension);
        foreach (var (name, value) in names.Zip(values))
        {
            Add(command, name, value);
        }

        return $"SELECT CAST(SUM(tally) AS bigint) FROM noorg_task_counts WHERE dimension = @count_dimension AND value IN ({string.Join(", ", names)});";
    }

    private string Filter(TaskQuery query, DbCommand command)
    {
        var conditions = new List<string>();
        In("state", "@s", query.States?.Select(StateName));
        In("type", "@t", query.Types);
        In("priority", "@p", query.Priorities?.Select(p => (object)(short)p));
        if (query.AssignedTo is not null)
        {
            conditions.Add("assigned_to = @assigned");
            Add(command, "@assigned", query.AssignedTo);
        }

        Range("created_at >= @created_after", "@created_after", query.CreatedAfter);
        Range("created_at <= @created_before", "@created_before", query.CreatedBefore);
        Range("updated_at >= @updated_after", "@updated_after", query.UpdatedAfter);
        Range("updated_at <= @updated_before", "@updated_before", query.UpdatedBefore);
        return conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);

        // An empty list is no filter (the same as null), not a filter nothing can pass.
        void In<T>(string column, string prefix, IEnumerable<T>? values)
        {
            var list = values?.Distinct().ToArray() ?? [];
            if (list.Length == 0)
            {
                return;
            }

            var names = list.Select((_, i) => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
            conditions.Add($"{column} IN ({string.Join(", ", names)})");
            foreach (var (name, value) in names.Zip(list))
            {
                Add(command, name, value);
            }
        }

        void Range(string condition, string name, DateTimeOffset? value)
        {
            if (value is { } time)
            {
                conditions.Add(condition);
                Add(command, name, Time(time));
            }
        }
    }

    private async Task<StoredRow?> ReadStoredAsync(DbConnection connection, DbTransaction? transaction, string id, CancellationToken cancellationToken)
    {
        var lockRow = transaction is not null && IsPostgres ? " FOR UPDATE" : "";
        await using var command = Command(connection, transaction,
            "SELECT state, priority, type, version, created_at FROM noorg_tasks WHERE id = @id" + lockRow);
        Add(command, "@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadStored(reader) : null;
    }

    private StoredRow ReadStored(DbDataReader reader) => new(
        ParseState(reader.GetString(0)),
        (TaskPriority)Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
        reader.GetString(2),
        Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture),
        ReadTime(reader, 4));

    private static async Task<List<long>> ReadSamplesAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var samples = new List<long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            samples.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        }

        samples.Sort();
        return samples;
    }

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        StorageConnections.OpenAsync(database.Dialect, database.ConnectionString, cancellationToken);

    /// <summary>
    /// PostgreSQL: read committed, rows locked by FOR UPDATE. SQLite: serializable, which Microsoft.Data.Sqlite
    /// opens with BEGIN IMMEDIATE, taking the write lock up front rather than failing on a lock upgrade later.
    /// </summary>
    private async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsPostgres ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable, cancellationToken);

    private object Time(DateTimeOffset time)
    {
        var utc = Microseconds(time);
        return IsPostgres ? utc : utc.UtcDateTime.ToString(SqliteTimeFormat, CultureInfo.InvariantCulture);
    }

    private DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => IsPostgres
        ? reader.GetFieldValue<DateTimeOffset>(ordinal)
        : DateTimeOffset.ParseExact(reader.GetString(ordinal), SqliteTimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql) =>
        connection.CreateCommand(transaction, sql);

    private static void Add(DbCommand command, string name, object? value) => command.AddParameter(name, value);

    private sealed record StoredRow(TaskState State, TaskPriority Priority, string Type, long Version, DateTimeOffset CreatedAt);

    /// <summary>Changes to the counters from one projection or removal, all in one task's slot.</summary>
    private sealed class CounterDeltas(int slot)
    {
        private readonly Dictionary<(string Dimension, string Value), long> deltas = [];
        private readonly Dictionary<(string State, string Type, short Priority), long> groups = [];

        public void Add(TaskState state, TaskPriority priority, string type) => Apply(state, priority, type, +1);

        public void Remove(StoredRow row) => Apply(row.State, row.Priority, row.Type, -1);

        public void Change(string dimension, string value, long delta) =>
            deltas[(dimension, value)] = deltas.GetValueOrDefault((dimension, value)) + delta;

        /// <summary>
        /// One upsert for all non-zero changes, in a fixed order: concurrent transactions lock counter rows in the
        /// same sequence and so never deadlock on them.
        /// </summary>
        public void AppendTo(DbCommand command)
        {
            var changes = deltas.Where(d => d.Value != 0)
                .OrderBy(d => d.Key.Dimension, StringComparer.Ordinal).ThenBy(d => d.Key.Value, StringComparer.Ordinal)
                .ToArray();
            if (changes.Length > 0)
            {
                var rows = new List<string>();
                for (var i = 0; i < changes.Length; i++)
                {
                    var n = i.ToString(CultureInfo.InvariantCulture);
                    rows.Add($"(@cd{n}, @cv{n}, @cs, @ct{n})");
                    SqlTaskIndex.Add(command, "@cd" + n, changes[i].Key.Dimension);
                    SqlTaskIndex.Add(command, "@cv" + n, changes[i].Key.Value);
                    SqlTaskIndex.Add(command, "@ct" + n, changes[i].Value);
                }

                command.CommandText += $"""

                    INSERT INTO noorg_task_counts (dimension, value, slot, tally) VALUES {string.Join(", ", rows)}
                    ON CONFLICT (dimension, value, slot) DO UPDATE SET tally = noorg_task_counts.tally + excluded.tally;
                    """;
            }

            var groupChanges = groups.Where(g => g.Value != 0)
                .OrderBy(g => g.Key.State, StringComparer.Ordinal).ThenBy(g => g.Key.Type, StringComparer.Ordinal).ThenBy(g => g.Key.Priority)
                .ToArray();
            if (changes.Length > 0 || groupChanges.Length > 0)
            {
                SqlTaskIndex.Add(command, "@cs", (short)slot);
            }

            if (groupChanges.Length > 0)
            {
                var rows = new List<string>();
                for (var i = 0; i < groupChanges.Length; i++)
                {
                    var n = i.ToString(CultureInfo.InvariantCulture);
                    rows.Add($"(@gs{n}, @gt{n}, @gp{n}, @cs, @gn{n})");
                    SqlTaskIndex.Add(command, "@gs" + n, groupChanges[i].Key.State);
                    SqlTaskIndex.Add(command, "@gt" + n, groupChanges[i].Key.Type);
                    SqlTaskIndex.Add(command, "@gp" + n, groupChanges[i].Key.Priority);
                    SqlTaskIndex.Add(command, "@gn" + n, groupChanges[i].Value);
                }

                command.CommandText += $"""

                    INSERT INTO noorg_task_group_counts (state, type, priority, slot, tally) VALUES {string.Join(", ", rows)}
                    ON CONFLICT (state, type, priority, slot) DO UPDATE SET tally = noorg_task_group_counts.tally + excluded.tally;
                    """;
            }
        }

        private void Apply(TaskState state, TaskPriority priority, string type, long delta)
        {
            Change(StateDimension, StateName(state), delta);
            Change(PriorityDimension, PriorityName(priority), delta);
            Change(TypeDimension, type, delta);
            var group = (StateName(state), type, (short)priority);
            groups[group] = groups.GetValueOrDefault(group) + delta;
        }
    }
}
