using System.Data.Common;
using NoOrg.Grains;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// <see cref="SqlTaskIndex"/> and the database's projection of task states (migration 0010), on a fresh migrated
/// database per test: task states written as the grain storage writes them, then counters, samples, every filter and
/// the dispatch order against hand-computed values.
/// </summary>
public abstract class TaskIndexTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    protected abstract StorageDialect Dialect { get; }

    private async Task<(TestDatabase Database, SqlTaskIndex Index, TaskStateRows Rows)?> CreateAsync()
    {
        if (Dialect == StorageDialect.Postgres && !TestDatabases.PostgresAvailable)
        {
            return null;
        }

        var database = await TestDatabases.CreateAsync(Dialect);
        await new SchemaMigrator(Dialect, database.ConnectionString).MigrateAsync();
        return (database, new SqlTaskIndex(new IndexDatabase(Dialect, database.ConnectionString)), new TaskStateRows(Dialect, database.ConnectionString));
    }

    internal static TaskSnapshot Snapshot(
        string id, TaskState state = TaskState.Pending, long version = 1, string type = "t", TaskPriority priority = TaskPriority.Medium,
        DateTimeOffset? createdAt = null, string? agent = null, TimeSpan? processing = null, DateTimeOffset? finishedAt = null,
        DateTimeOffset? nextAttemptAt = null, IReadOnlyList<string>? waitingOn = null, IReadOnlyList<string>? capabilities = null)
    {
        var created = createdAt ?? T0;
        var terminal = state is TaskState.Completed or TaskState.Failed or TaskState.Cancelled;
        var finished = terminal ? finishedAt ?? created.AddMinutes(1) : (DateTimeOffset?)null;
        return new TaskSnapshot(
            id, new TaskSpec("name " + id, type, Priority: priority, RequiredCapabilities: capabilities), state, agent,
            Attempt: state is TaskState.Pending or TaskState.Assigned ? 0 : 1, created, finished ?? created.AddSeconds(version), created,
            finished, nextAttemptAt, ResultJson: null, Error: null, ProcessingTime: state == TaskState.Completed ? processing : null,
            waitingOn ?? [], UnassignableReason: null, version);
    }

    [SkippableFact]
    public async Task A_write_with_a_stale_version_is_refused_and_the_index_keeps_the_stored_state()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;

        var first = await rows.WriteAsync(Snapshot("a", TaskState.Pending, version: 1));
        await rows.WriteAsync(Snapshot("a", TaskState.Running, version: 2, agent: "x"));
        var stale = await rows.WriteAsync(Snapshot("a", TaskState.Pending, version: 3), expectedVersion: first);

        Assert.Null(stale);
        var row = Assert.Single((await index.QueryAsync(new TaskQuery())).Items);
        Assert.Equal((TaskState.Running, "x"), (row.State, row.AssignedTo));
        var stats = await index.StatisticsAsync(T0);
        Assert.Equal((1L, 1L, 0L), (stats.Total, stats.ByState[TaskState.Running], stats.ByState[TaskState.Pending]));
    }

    [SkippableFact]
    public async Task A_state_the_index_cannot_hold_is_refused_whole_and_nothing_is_stored()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;
        await rows.WriteAsync(Snapshot("kept", TaskState.Pending));

        await Assert.ThrowsAnyAsync<DbException>(() => rows.WriteAsync(Snapshot("bad", TaskState.Pending, priority: (TaskPriority)40)));
        await Assert.ThrowsAnyAsync<DbException>(() => rows.WriteAsync(Snapshot("kept", (TaskState)9, version: 2)));

        // One statement: neither the state nor its index row nor any counter moved.
        Assert.Null(await rows.StoredVersionAsync("bad"));
        Assert.Equal(1, await rows.StoredVersionAsync("kept"));
        var row = Assert.Single((await index.QueryAsync(new TaskQuery())).Items);
        Assert.Equal(("kept", TaskState.Pending), (row.Id, row.State));
        Assert.Equal(1L, (await index.StatisticsAsync(T0)).Total);
    }

    [SkippableFact]
    public async Task Counters_follow_every_change_and_removal_keeps_outcomes_and_samples()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;

        await rows.WriteAsync(Snapshot("a", TaskState.Pending, 1, priority: TaskPriority.High));
        await rows.WriteAsync(Snapshot("a", TaskState.Running, 2, priority: TaskPriority.High, agent: "x"));
        await rows.WriteAsync(Snapshot("a", TaskState.Completed, 3, priority: TaskPriority.High, agent: "x", processing: TimeSpan.FromSeconds(7)));
        await rows.WriteAsync(Snapshot("a", TaskState.Completed, 3, priority: TaskPriority.High, agent: "x", processing: TimeSpan.FromSeconds(7)));
        await rows.WriteAsync(Snapshot("b", TaskState.Failed, 4, type: "u"));
        await rows.WriteAsync(Snapshot("c", TaskState.Pending, 1, type: "u", priority: TaskPriority.Low));

        var before = await index.StatisticsAsync(T0.AddMinutes(2));
        Assert.Equal(3, before.Total);
        Assert.Equal((1L, 1L, 1L, 0L), (before.ByState[TaskState.Completed], before.ByState[TaskState.Failed], before.ByState[TaskState.Pending], before.ByState[TaskState.Running]));
        Assert.Equal((1L, 1L, 1L, 0L), (before.ByPriority[TaskPriority.High], before.ByPriority[TaskPriority.Medium], before.ByPriority[TaskPriority.Low], before.ByPriority[TaskPriority.Critical]));
        Assert.Equal(new Dictionary<string, long> { ["t"] = 1, ["u"] = 2 }, before.ByType);
        Assert.Equal(0.5, before.SuccessRate);
        Assert.Equal(TimeSpan.FromSeconds(7), before.MedianProcessingTime);
        var finished = new TaskQuery(States: [TaskState.Completed, TaskState.Failed], Types: ["t", "u"]);
        Assert.Equal(2, (await index.QueryAsync(finished)).Total);
        Assert.Equal(1, (await index.QueryAsync(finished with { Priorities = [TaskPriority.High] })).Total);

        await rows.ClearAsync("a");
        await rows.ClearAsync("b");
        await rows.ClearAsync("b");

        var after = await index.StatisticsAsync(T0.AddMinutes(2));
        Assert.Equal((1L, 0L, 0L, 1L), (after.Total, after.ByState[TaskState.Completed], after.ByState[TaskState.Failed], after.ByState[TaskState.Pending]));
        Assert.Equal(new Dictionary<string, long> { ["u"] = 1 }, after.ByType);
        Assert.Equal(0, (await index.QueryAsync(finished)).Total);
        Assert.Equal(1, (await index.QueryAsync(new TaskQuery(States: [TaskState.Pending], Types: ["u"], Priorities: [TaskPriority.Low]))).Total);
        Assert.Equal(0.5, after.SuccessRate); // outcomes are history: removing the tasks does not change them
        Assert.Equal(1, (await index.EstimateAsync("t", null))!.SampleCount); // nor the completion samples
    }

    [SkippableFact]
    public async Task Statistics_and_estimates_use_nearest_rank_percentiles_of_the_newest_samples()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;
        var now = T0.AddHours(1);

        // Ten completions in the last five minutes (1..10 s), agent x did the odd ones; one more long before.
        for (var i = 1; i <= 10; i++)
        {
            await rows.WriteAsync(Snapshot($"done-{i}", TaskState.Completed, type: "t", agent: i % 2 == 1 ? "x" : "y",
                processing: TimeSpan.FromSeconds(i), finishedAt: now.AddSeconds(-20 * i)));
        }

        await rows.WriteAsync(Snapshot("old", TaskState.Completed, type: "old", agent: "x", processing: TimeSpan.FromSeconds(100), finishedAt: now.AddHours(-1)));
        await rows.WriteAsync(Snapshot("failed", TaskState.Failed, type: "t"));

        var stats = await index.StatisticsAsync(now);
        var all = await index.EstimateAsync("t", null);
        var x = await index.EstimateAsync("t", "x");

        // 11 samples sorted: 1..10, 100. Median rank ceil(5.5) = 6 -> 6 s; p90 rank ceil(9.9) = 10 -> 10 s.
        Assert.Equal((TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(10)), (stats.MedianProcessingTime, stats.P90ProcessingTime));
        Assert.Equal(11.0 / 12, stats.SuccessRate);
        Assert.Equal(10 / 5.0, stats.CompletionsPerMinute);
        Assert.Equal(now, stats.ComputedAt);

        // Type t: 1..10. Median rank 5 -> 5 s; p90 rank 9 -> 9 s.
        Assert.Equal(new DurationEstimate("t", null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9), 10, false), all);

        // Agent x on type t: 1, 3, 5, 7, 9. Median rank 3 -> 5 s; p90 rank ceil(4.5) = 5 -> 9 s.
        Assert.Equal(new DurationEstimate("t", "x", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9), 5, false), x);
        Assert.Null(await index.EstimateAsync("t", "nobody"));
        Assert.Null(await index.EstimateAsync("unknown", null));
    }

    [SkippableFact]
    public async Task Ready_tasks_come_critical_first_then_oldest_and_skip_waiting_or_backing_off_ones()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;
        var now = T0.AddHours(1);

        await rows.WriteAsync(Snapshot("low-old", priority: TaskPriority.Low, createdAt: T0));
        await rows.WriteAsync(Snapshot("critical-new", priority: TaskPriority.Critical, createdAt: T0.AddMinutes(5), capabilities: ["gpu", "en"]));
        await rows.WriteAsync(Snapshot("high-b", priority: TaskPriority.High, createdAt: T0.AddMinutes(1)));
        await rows.WriteAsync(Snapshot("high-a", priority: TaskPriority.High, createdAt: T0.AddMinutes(1)));
        await rows.WriteAsync(Snapshot("waiting", priority: TaskPriority.Critical, waitingOn: ["low-old"]));
        await rows.WriteAsync(Snapshot("backing-off", priority: TaskPriority.Critical, nextAttemptAt: now.AddSeconds(1)));
        await rows.WriteAsync(Snapshot("back-off-over", priority: TaskPriority.Medium, nextAttemptAt: now));
        await rows.WriteAsync(Snapshot("running", TaskState.Running, priority: TaskPriority.Critical));

        var ready = await index.ReadyAsync(now, 10);
        var firstTwo = await index.ReadyAsync(now, 2);

        Assert.Equal(["critical-new", "high-a", "high-b", "back-off-over", "low-old"], ready.Select(r => r.Id));
        Assert.Equal(["gpu", "en"], ready[0].RequiredCapabilities);
        Assert.Equal((TaskPriority.Critical, T0.AddMinutes(5)), (ready[0].Priority, ready[0].CreatedAt));
        Assert.Equal(["critical-new", "high-a"], firstTwo.Select(r => r.Id));
    }

    [SkippableFact]
    public async Task Every_filter_applies_and_pages_come_oldest_first_with_the_filtered_total()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;
        for (var i = 0; i < 12; i++)
        {
            var state = (TaskState)(i % 6);
            await rows.WriteAsync(Snapshot($"task-{i:00}", state, version: 1, type: i < 6 ? "a" : "b", priority: (TaskPriority)(i % 4),
                createdAt: T0.AddMinutes(i), agent: state is TaskState.Assigned or TaskState.Running ? $"agent-{i % 2}" : null));
        }

        // "id, id / total": one comparable string per page.
        async Task<string> Ids(TaskQuery query)
        {
            var page = await index.QueryAsync(query);
            return $"{string.Join(", ", page.Items.Select(t => t.Id))} / {page.Total}";
        }

        async Task<long> Total(TaskQuery query) => (await index.QueryAsync(query)).Total;

        Assert.Equal(12, await Total(new TaskQuery()));
        Assert.Equal("task-00, task-06 / 2", await Ids(new TaskQuery(States: [TaskState.Pending])));
        Assert.Equal("task-01, task-02, task-07, task-08 / 4", await Ids(new TaskQuery(States: [TaskState.Running, TaskState.Assigned])));
        Assert.Equal(6, await Total(new TaskQuery(Types: ["b"])));
        Assert.Equal("task-03, task-07, task-11 / 3", await Ids(new TaskQuery(Priorities: [TaskPriority.Critical])));
        Assert.Equal("task-02, task-08 / 2", await Ids(new TaskQuery(AssignedTo: "agent-0")));
        Assert.Equal("task-03, task-04 / 2", await Ids(new TaskQuery(CreatedAfter: T0.AddMinutes(3), CreatedBefore: T0.AddMinutes(4))));
        Assert.Equal("task-08 / 1", await Ids(new TaskQuery(Types: ["b"], States: [TaskState.Running], Priorities: [TaskPriority.Low])));
        Assert.Equal("task-01, task-02 / 12", await Ids(new TaskQuery(Skip: 1, Take: 2)));
        Assert.Equal("task-10, task-11 / 6", await Ids(new TaskQuery(Types: ["b"], Skip: 4, Take: 5)));
        Assert.Equal(12, await Total(new TaskQuery(States: []))); // an empty list is no filter
        Assert.Equal(12, await Total(new TaskQuery(UpdatedAfter: T0)));
        Assert.Equal(0, await Total(new TaskQuery(UpdatedBefore: T0.AddSeconds(-1))));
        Assert.Equal(12, (await index.QueryAsync(new TaskQuery(Take: 5000))).Items.Count); // more than the cap is not an error
    }

    [SkippableFact]
    public async Task Finished_tasks_are_found_by_age_oldest_first()
    {
        var created = await CreateAsync();
        Skip.If(created is null, TestDatabases.PostgresSkipReason);
        var (database, index, rows) = created.Value;
        await using var _ = database;
        await rows.WriteAsync(Snapshot("new", TaskState.Cancelled, finishedAt: T0.AddDays(2)));
        await rows.WriteAsync(Snapshot("old", TaskState.Completed, finishedAt: T0));
        await rows.WriteAsync(Snapshot("mid", TaskState.Failed, finishedAt: T0.AddDays(1)));
        await rows.WriteAsync(Snapshot("open", TaskState.Running));

        await rows.WriteAsync(Snapshot("mid-b", TaskState.Completed, finishedAt: T0.AddDays(1))); // same time: by id

        async Task<string[]> Ids(DateTimeOffset cutoff, int limit, FinishedTask? after = null) =>
            [.. (await index.FinishedBeforeAsync(cutoff, limit, after)).Select(t => t.Id)];

        Assert.Equal(["old", "mid", "mid-b"], await Ids(T0.AddDays(1).AddTicks(10), 10));
        Assert.Equal(["old"], await Ids(T0.AddDays(3), 1));
        Assert.Empty(await Ids(T0, 10));

        // Keyset pages: each starts after the last one's key, ties on the time broken by id.
        var first = await index.FinishedBeforeAsync(T0.AddDays(3), 2);
        Assert.Equal((T0.AddDays(1), "mid"), (first[^1].FinishedAt, first[^1].Id));
        Assert.Equal(["mid-b", "new"], await Ids(T0.AddDays(3), 2, first[^1]));
        Assert.Empty(await Ids(T0.AddDays(3), 2, new FinishedTask("new", T0.AddDays(2))));
    }
}

public sealed class SqliteTaskIndexTests : TaskIndexTests
{
    protected override StorageDialect Dialect => StorageDialect.Sqlite;
}

public sealed class PostgresTaskIndexTests : TaskIndexTests
{
    protected override StorageDialect Dialect => StorageDialect.Postgres;
}
