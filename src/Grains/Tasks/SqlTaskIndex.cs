using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using NoOrg.Storage;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// <see cref="ITaskIndex"/> in the cluster's own database (tables from migration 0006): one row per task, aggregate
/// counters and one sample per completion, all written by the database itself inside each task state write
/// (migration 0010_task_projection). Every query is served by an index or by the counters, so its cost does not grow
/// with the number of stored tasks (except listing's filtered count when filters are combined).
/// </summary>
internal sealed class SqlTaskIndex(IndexDatabase database, NoOrg.Configuration.NoOrgSettings? settings = null) : ITaskIndex
{
    public const int MaxPageSize = 1000;

    /// <summary>Statistics and estimates read this many of the newest completion samples (NOORG_TASKS_SAMPLE_WINDOW); retention keeps them.</summary>
    private int SampleWindow => settings?.Tasks.SampleWindow ?? 1000;

    public static readonly TimeSpan CompletionRateWindow = TimeSpan.FromMinutes(5);

    private const string SqliteTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private const string OutcomeDimension = "outcome";

    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    public async Task<IReadOnlyList<TaskEvent>> HistoryAsync(string taskId, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            $"SELECT {EventRows.Column(database.Dialect)} FROM noorg_task_events WHERE task_id = @id AND sequence > @skip ORDER BY sequence LIMIT @take");
        Add(command, "@id", taskId);
        Add(command, "@skip", (long)skip);
        Add(command, "@take", take);
        return await EventRows.ReadAsync<TaskEvent>(command, "noorg_task_events", cancellationToken);
    }

    public async Task<IReadOnlyList<TaskHolding>> HoldingsAsync(IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        if (taskIds.Count == 0)
        {
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, IsPostgres
            ? "SELECT id, state, assigned_to FROM noorg_tasks WHERE id IN (SELECT jsonb_array_elements_text(@ids::jsonb))"
            : "SELECT id, state, assigned_to FROM noorg_tasks WHERE id IN (SELECT value FROM json_each(@ids))");
        Add(command, "@ids", JsonSerializer.Serialize(taskIds));
        var holdings = new List<TaskHolding>(taskIds.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            holdings.Add(new TaskHolding(
                reader.GetString(0), ParseState(reader.GetString(1)), await reader.IsDBNullAsync(2, cancellationToken) ? null : reader.GetString(2)));
        }

        return holdings;
    }

    public async Task<IReadOnlyList<string>> HeldByAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT id FROM noorg_tasks WHERE assigned_to = @agent AND state IN ('assigned', 'running') ORDER BY created_at, id");
        Add(command, "@agent", agentId);
        var held = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetString(0));
        }

        return held;
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
            + where + " ORDER BY created_at, id LIMIT @take OFFSET @skip;\n" + TotalSql(query, where);
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

    public async Task<IReadOnlyDictionary<TaskState, long>> CountByStateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT state, CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts GROUP BY state;");
        var byState = Enum.GetValues<TaskState>().ToDictionary(s => s, _ => 0L);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            byState[ParseState(reader.GetString(0))] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        return byState;
    }

    public async Task<TaskStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, $"""
            SELECT state, type, priority, CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts GROUP BY state, type, priority;
            SELECT value, CAST(SUM(tally) AS bigint) FROM noorg_task_counts WHERE dimension = '{OutcomeDimension}' GROUP BY value;
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
        // By state, by priority and by type are sums over the group counters (migration 0019_task_counts).
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture);
            byState[ParseState(reader.GetString(0))] += count;
            byPriority[(TaskPriority)Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture)] += count;
            if (count != 0) // a slot's tally never falls below zero: a type with no stored task is left out
            {
                var type = reader.GetString(1);
                byType[type] = byType.GetValueOrDefault(type) + count;
            }
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var value = reader.GetString(0);
            var count = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            if (value == StateName(TaskState.Completed))
            {
                completed = count;
            }
            else if (value == StateName(TaskState.Failed))
            {
                failed = count;
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
        await using var command = Command(connection, null, $"""
            SELECT id, priority, required_capabilities, created_at FROM noorg_tasks
            WHERE {ReadyPredicate}
            ORDER BY priority DESC, created_at, id
            LIMIT @limit
            """);
        Add(command, "@now", Time(now));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        return await ReadReadyAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<ReadyTask>> ReadyInPoolAsync(
        string pool, IReadOnlyCollection<string> storedForms, DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);

        // Each form is read through ix_noorg_tasks_pool in dispatch order, at most @limit rows each.
        await using var command = Command(connection, null, IsPostgres
            ? $"""
              SELECT r.id, r.priority, r.required_capabilities, r.created_at
                FROM (SELECT DISTINCT unnest(@forms || (@pool::jsonb)::text) AS form) AS f
               CROSS JOIN LATERAL (
                     SELECT id, priority, required_capabilities, created_at FROM noorg_tasks
                      WHERE md5(required_capabilities) = md5(f.form) AND required_capabilities = f.form
                        AND {ReadyPredicate}
                      ORDER BY priority DESC, created_at, id
                      LIMIT @limit) AS r
               ORDER BY r.priority DESC, r.created_at, r.id
               LIMIT @limit
              """
            : $"""
              SELECT id, priority, required_capabilities, created_at FROM noorg_tasks
               WHERE required_capabilities IN (SELECT value FROM json_each(@forms) UNION SELECT json(@pool))
                 AND {ReadyPredicate}
               ORDER BY priority DESC, created_at, id
               LIMIT @limit
              """);
        Add(command, "@pool", pool);
        Add(command, "@forms", IsPostgres ? storedForms.ToArray() : JsonSerializer.Serialize(storedForms));
        Add(command, "@now", Time(now));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        return await ReadReadyAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ReadyPoolsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            $"SELECT DISTINCT required_capabilities FROM noorg_tasks WHERE {ReadyPredicate} LIMIT @limit");
        Add(command, "@now", Time(now));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        var pools = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pools.Add(reader.GetString(0));
        }

        return pools;
    }

    /// <summary>Pending, nothing to wait for, back-off over: the literal predicate the partial indexes match.</summary>
    private const string ReadyPredicate =
        "state = 'pending' AND waiting_count = 0 AND (next_attempt_at IS NULL OR next_attempt_at <= @now)";

    private async Task<IReadOnlyList<ReadyTask>> ReadReadyAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var ready = new List<ReadyTask>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var stored = reader.GetString(2);
            ready.Add(new ReadyTask(
                reader.GetString(0),
                (TaskPriority)Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture),
                JsonSerializer.Deserialize<string[]>(stored) ?? [],
                ReadTime(reader, 3),
                stored));
        }

        return ready;
    }

    public async Task<IReadOnlyList<FinishedTask>> FinishedBeforeAsync(
        DateTimeOffset cutoff, int limit, FinishedTask? after = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await OpenAsync(cancellationToken);
        var page = after is null ? "" : "AND (finished_at > @afterAt OR (finished_at = @afterAt AND id > @afterId))";
        await using var command = Command(connection, null, $"""
            SELECT id, finished_at FROM noorg_tasks
            WHERE finished_at IS NOT NULL AND finished_at < @cutoff {page}
            ORDER BY finished_at, id
            LIMIT @limit
            """);
        Add(command, "@cutoff", Time(cutoff));
        Add(command, "@limit", Math.Min(limit, MaxPageSize));
        if (after is not null)
        {
            Add(command, "@afterAt", Time(after.FinishedAt));
            Add(command, "@afterId", after.Id);
        }

        var tasks = new List<FinishedTask>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tasks.Add(new FinishedTask(reader.GetString(0), ReadTime(reader, 1)));
        }

        return tasks;
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


    /// <summary>
    /// The statement that counts the filtered tasks. Filters on state, type and priority alone are answered by the
    /// group counters (the filter's conditions name only columns they have too); only a filter on the agent or on
    /// times counts rows, through the filter's index.
    /// </summary>
    private static string TotalSql(TaskQuery query, string where) =>
        query.AssignedTo is not null || query.CreatedAfter is not null || query.CreatedBefore is not null
            || query.UpdatedAfter is not null || query.UpdatedBefore is not null
            ? "SELECT COUNT(*) FROM noorg_tasks" + where + ";"
            : "SELECT CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts" + where + ";";

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

    public async Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int fromSlot, int toSlot, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT task_id FROM noorg_task_due WHERE due_at <= @now AND slot >= @from AND slot < @to ORDER BY due_at, task_id LIMIT @take");
        Add(command, "@now", Time(now));
        Add(command, "@from", fromSlot);
        Add(command, "@to", toSlot);
        Add(command, "@take", limit);
        var due = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(reader.GetString(0));
        }

        return due;
    }

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        database.OpenAsync(cancellationToken);

    /// <summary>The index keeps microseconds (PostgreSQL's precision); a query bound is truncated the same way.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

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
}
