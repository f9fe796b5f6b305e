using System.Globalization;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// Task behaviour that needs a cluster of its own on a fresh database: statistics and clean-up that count every
/// task, a full cluster restart, and a lowered history limit.
/// </summary>
public abstract class TaskFreshClusterTests(ClusterFixture fixture)
{
    private async Task<FreshCluster> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var cluster = await FreshCluster.StartAsync(fixture.Provider, settings);
        Skip.If(cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        return cluster;
    }

    /// <summary>Runs a task through <paramref name="agentId"/> (the only agent able to take it) to completion.</summary>
    private static async Task<TaskSnapshot> CompleteAsync(TestTasks tasks, TaskSpec spec, string agentId, TimeSpan processing)
    {
        var created = await tasks.CreateAsync(spec);
        await tasks.WaitAsync(created.Id, t => t.AssignedTo == agentId, "the task to be dispatched to its agent");
        await tasks.Grain(created.Id).StartAsync(agentId);
        return await tasks.Grain(created.Id).CompleteAsync(agentId, "null", processing);
    }

    private static async Task<TaskSnapshot> FailAsync(TestTasks tasks, TaskSpec spec, string agentId)
    {
        var created = await tasks.CreateAsync(spec with { MaxAttempts = 1 });
        await tasks.WaitAsync(created.Id, t => t.AssignedTo == agentId, "the task to be dispatched to its agent");
        await tasks.Grain(created.Id).StartAsync(agentId);
        return await tasks.Grain(created.Id).FailAsync(agentId, "broken on purpose");
    }

    [SkippableFact]
    public async Task Statistics_and_estimates_match_hand_computed_values()
    {
        await using var cluster = await StartAsync();
        var tasks = new TestTasks(cluster.Client);
        await using var agents = new TestAgents(cluster.Client);
        var (a, _) = await agents.RegisterAsync(TestAgents.Registration(["shared", "only-a"], 10));
        var (b, _) = await agents.RegisterAsync(TestAgents.Registration(["shared", "only-b"], 10));

        // Agent a completes 10, 20 and 30 s of "stats" work, agent b 40 and 50 s; one task fails, one is cancelled,
        // one waits for a capability nobody has.
        foreach (var seconds in new[] { 10, 20, 30 })
        {
            await CompleteAsync(tasks, TestTasks.Spec("only-a", "stats"), a, TimeSpan.FromSeconds(seconds));
        }

        foreach (var seconds in new[] { 40, 50 })
        {
            await CompleteAsync(tasks, TestTasks.Spec("only-b", "stats"), b, TimeSpan.FromSeconds(seconds));
        }

        await FailAsync(tasks, TestTasks.Spec("only-a", "stats-fail"), a);
        var cancelled = await tasks.CreateAsync(TestTasks.Spec("nobody", "stats-other", TaskPriority.Critical));
        await tasks.Grain(cancelled.Id).CancelAsync("not needed", "operator");
        await tasks.CreateAsync(TestTasks.Spec("nobody", "stats-other", TaskPriority.High));
        var queries = cluster.Client.GetGrain<ITaskQueryGrain>(0);

        var stats = await queries.StatisticsAsync();

        Assert.Equal(8, stats.Total);
        Assert.Equal(
            new Dictionary<TaskState, long>
            {
                [TaskState.Pending] = 1, [TaskState.Assigned] = 0, [TaskState.Running] = 0,
                [TaskState.Completed] = 5, [TaskState.Failed] = 1, [TaskState.Cancelled] = 1,
            },
            stats.ByState);
        Assert.Equal(
            new Dictionary<TaskPriority, long> { [TaskPriority.Low] = 0, [TaskPriority.Medium] = 6, [TaskPriority.High] = 1, [TaskPriority.Critical] = 1 },
            stats.ByPriority);
        Assert.Equal(new Dictionary<string, long> { ["stats"] = 5, ["stats-fail"] = 1, ["stats-other"] = 2 }, stats.ByType);

        // Samples 10..50 s: median = rank ceil(2.5) = 3rd = 30 s, p90 = rank ceil(4.5) = 5th = 50 s.
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(50)), (stats.MedianProcessingTime, stats.P90ProcessingTime));
        Assert.Equal(5.0 / 6, stats.SuccessRate);
        Assert.Equal(5 / 5.0, stats.CompletionsPerMinute); // five completions within the last five minutes

        // Agent a: 10, 20, 30 -> median rank 2 = 20 s, p90 rank 3 = 30 s. Agent b: 40, 50 -> rank 1 = 40 s, rank 2 = 50 s.
        Assert.Equal(new DurationEstimate("stats", a, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30), 3, false),
            await queries.EstimateAsync("stats", a, TaskPriority.Low));
        Assert.Equal(new DurationEstimate("stats", b, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(50), 2, false),
            await queries.EstimateAsync("stats", b, TaskPriority.Low));
        var typeWide = new DurationEstimate("stats", null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(50), 5, false);
        Assert.Equal(typeWide, await queries.EstimateAsync("stats", null, TaskPriority.Low));
        Assert.Equal(typeWide, await queries.EstimateAsync("stats", "agent-without-history", TaskPriority.Low));
        Assert.Equal(new DurationEstimate("never-run", null, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(180), 0, true),
            await queries.EstimateAsync("never-run", null, TaskPriority.High));
        await tasks.DisposeAsync();
    }

    [SkippableFact]
    public async Task Cleanup_removes_old_finished_tasks_and_the_counters_stay_right()
    {
        await using var cluster = await StartAsync();
        var tasks = new TestTasks(cluster.Client);
        await using var agents = new TestAgents(cluster.Client);
        var (agentId, _) = await agents.RegisterAsync(TestAgents.Registration(["worker"], 5));
        var removed = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var cancelled = await tasks.CreateAsync(TestTasks.Spec("nobody", "old"));
            await tasks.Grain(cancelled.Id).CancelAsync("old news", "operator");
            removed.Add(cancelled.Id);
        }

        removed.Add((await CompleteAsync(tasks, TestTasks.Spec("worker", "old"), agentId, TimeSpan.FromSeconds(5))).Id);
        var kept = await tasks.CreateAsync(TestTasks.Spec("nobody", "keep"));
        var queries = cluster.Client.GetGrain<ITaskQueryGrain>(0);

        Assert.Equal(0, await queries.CleanupAsync(TimeSpan.FromDays(1))); // nothing is a day old yet
        Assert.Equal(4, await queries.CleanupAsync(TimeSpan.Zero));
        Assert.Equal(0, await queries.CleanupAsync(TimeSpan.Zero));

        var stats = await queries.StatisticsAsync();
        Assert.Equal(1, stats.Total);
        Assert.Equal(1, stats.ByState[TaskState.Pending]);
        Assert.Equal(0, stats.ByState[TaskState.Cancelled] + stats.ByState[TaskState.Completed]);
        Assert.Equal(new Dictionary<string, long> { ["keep"] = 1 }, stats.ByType);
        Assert.Equal((1.0, TimeSpan.FromSeconds(5)), (stats.SuccessRate, stats.MedianProcessingTime)); // history outlives the tasks
        foreach (var id in removed)
        {
            Assert.Null(await tasks.Grain(id).GetAsync());
        }

        Assert.Equal([kept.Id], (await queries.ListAsync(new TaskQuery())).Items.Select(t => t.Id));
        await tasks.DisposeAsync();
    }

    /// <summary>
    /// A full batch of old finished tasks none of which may go yet (their events are not out: the webhook is down and
    /// retries far off) neither stops the clean-up (newer tasks behind it go) nor keeps it running: it once read the
    /// same batch again for ever, and then stopped at it.
    /// </summary>
    [SkippableFact]
    public async Task Cleanup_steps_over_a_whole_batch_that_cannot_go_yet_and_ends()
    {
        await using var cluster = await StartAsync(new Dictionary<string, string>
        {
            ["NOORG_OUTBOX_MAX_ATTEMPTS"] = "1000",
            ["NOORG_OUTBOX_RETRY_BASE_MS"] = "600000",
            ["NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS"] = "1",
            ["NOORG_RESILIENCE_RETRY_ATTEMPTS"] = "0",
        });
        var webhook = await cluster.Client.GetGrain<NoOrg.Grains.Patterns.Outbox.IWebhooksGrain>(0)
            .AddAsync("http://127.0.0.1:9/down", ["task.cancelled"], "nobody listens here", null);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the silos' webhook lists refresh every second
        var tasks = new TestTasks(cluster.Client);
        const int Batch = 200; // TaskRetentionGrain's batch
        // A few at a time: a cancel the client retries after a timeout under load would find its task cancelled already.
        foreach (var chunk in Enumerable.Range(0, Batch).Chunk(8))
        {
            await Task.WhenAll(chunk.Select(async _ =>
            {
                var created = await tasks.CreateAsync(TestTasks.Spec("nobody", "stuck"));
                await tasks.Grain(created.Id).CancelAsync("old news", "operator");
            }));
        }

        // Newer tasks that can go, behind the whole batch that cannot: nobody is told of them any more.
        await cluster.Client.GetGrain<NoOrg.Grains.Patterns.Outbox.IWebhooksGrain>(0).RemoveAsync(webhook.Subscription.Id);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        const int Newer = 12;
        foreach (var chunk in Enumerable.Range(0, Newer).Chunk(4))
        {
            await Task.WhenAll(chunk.Select(async _ =>
            {
                var created = await tasks.CreateAsync(TestTasks.Spec("nobody", "free"));
                await tasks.Grain(created.Id).CancelAsync("old news", "operator");
            }));
        }

        var cleanup = cluster.Client.GetGrain<ITaskQueryGrain>(0).CleanupAsync(TimeSpan.Zero);
        Assert.Same(cleanup, await Task.WhenAny(cleanup, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Equal(Newer, await cleanup); // it stepped over the stuck batch instead of stopping at it
        Assert.Equal(Batch, (await cluster.Client.GetGrain<ITaskQueryGrain>(0).StatisticsAsync()).ByState[TaskState.Cancelled]);
        await tasks.DisposeAsync();
    }

    [SkippableFact]
    public async Task The_retention_reminder_is_registered_once()
    {
        await using var cluster = await StartAsync(new Dictionary<string, string> { ["NOORG_TASKS_CLEANUP_INTERVAL_MINUTES"] = "5" });
        var retention = cluster.Client.GetGrain<ITaskRetentionGrain>(0);

        await retention.EnsureScheduledAsync();
        await retention.EnsureScheduledAsync();

        await using var connection = StorageConnections.Create(cluster.Provider.ToDialect(), cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT period_ms FROM orleans_reminders WHERE reminder_name = 'cleanup'";
        var periods = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                periods.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        Assert.Equal([(long)TimeSpan.FromMinutes(5).TotalMilliseconds], periods);
    }

    [SkippableFact]
    public async Task Index_rows_match_the_tasks_after_a_full_cluster_restart()
    {
        await using var cluster = await StartAsync();
        var type = "restart";
        var ids = new List<string>();
        IReadOnlyList<TaskSummary> before;
        await using (var agents = new TestAgents(cluster.Client))
        {
            var tasks = new TestTasks(cluster.Client);
            var (agentId, _) = await agents.RegisterAsync(TestAgents.Registration(["worker"], 5));
            ids.Add((await CompleteAsync(tasks, TestTasks.Spec("worker", type), agentId, TimeSpan.FromSeconds(2))).Id);
            ids.Add((await FailAsync(tasks, TestTasks.Spec("worker", type, TaskPriority.High), agentId)).Id);
            var cancelled = await tasks.CreateAsync(TestTasks.Spec("nobody", type, TaskPriority.Low));
            ids.Add((await tasks.Grain(cancelled.Id).CancelAsync("not needed", "operator")).Id);
            var pending = await tasks.CreateAsync(TestTasks.Spec("nobody", type, TaskPriority.Critical));
            ids.Add((await tasks.WaitAsync(pending.Id, t => t.UnassignableReason is not null, "the dispatcher to look at the task")).Id);
            before = (await cluster.Client.GetGrain<ITaskQueryGrain>(0).ListAsync(new TaskQuery(Types: [type]))).Items;
        }

        Assert.Equal(4, before.Count);

        await cluster.StopAsync();
        await cluster.StartAsync();
        var queries = cluster.Client.GetGrain<ITaskQueryGrain>(0);

        var snapshots = new List<TaskSnapshot>();
        foreach (var id in ids)
        {
            snapshots.Add((await cluster.Client.GetGrain<ITaskGrain>(id).GetAsync())!);
        }

        var after = (await queries.ListAsync(new TaskQuery(Types: [type]))).Items;
        Assert.Equal(before, after);
        foreach (var snapshot in snapshots)
        {
            var row = after.Single(r => r.Id == snapshot.Id);
            Assert.Equal(
                (snapshot.State, snapshot.Spec.Priority, snapshot.AssignedTo, snapshot.Attempt, snapshot.CreatedAt, snapshot.UpdatedAt),
                (row.State, row.Priority, row.AssignedTo, row.Attempt, row.CreatedAt, row.UpdatedAt));
        }

        var stats = await queries.StatisticsAsync();
        Assert.Equal((4L, 1L, 1L, 1L, 1L), (stats.Total, stats.ByState[TaskState.Completed], stats.ByState[TaskState.Failed], stats.ByState[TaskState.Cancelled], stats.ByState[TaskState.Pending]));
    }

    [SkippableFact]
    public async Task A_silo_killed_under_load_leaves_every_stored_task_exactly_in_the_index()
    {
        await using var cluster = await StartAsync();
        var tasks = new TestTasks(cluster.Client);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        // Eight callers create tasks nobody can take (so dispatch keeps writing "unassignable" changes too) while
        // the silo hosting about half of the task grains is killed.
        var load = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    acknowledged.Add((await tasks.CreateAsync(TestTasks.Spec("nobody", "kill"))).Id);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // refused or cut off by the kill: not acknowledged, so not owed to the index
                }
            }
        })).ToArray();

        await Eventually.ReturnsAsync(() => Task.FromResult(acknowledged.Count), n => n >= 40, TimeSpan.FromSeconds(60), "40 tasks to be created");
        await cluster.Cluster!.KillSiloAsync(cluster.Cluster.SecondarySilos[0]);
        var atKill = acknowledged.Count;
        await Eventually.ReturnsAsync(() => Task.FromResult(acknowledged.Count), n => n >= atKill + 40, TimeSpan.FromSeconds(90), "creation to go on after the kill");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var postgres = cluster.Provider.ToDialect() == StorageDialect.Postgres;
        var stateVersion = postgres ? "(s.payload -> 'Task' ->> 'Version')::bigint" : "json_extract(s.payload, '$.Task.Version')";
        var hasTask = postgres ? "jsonb_typeof(s.payload -> 'Task') = 'object'" : "json_type(s.payload, '$.Task') = 'object'";
        await using var connection = await StorageConnections.OpenAsync(cluster.Provider.ToDialect(), cluster.ConnectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, $"""
            SELECT COUNT(*) FROM orleans_grain_state AS s
             WHERE s.state_name = 'task' AND {hasTask}
               AND NOT EXISTS (SELECT 1 FROM noorg_tasks AS t WHERE t.id = s.grain_id_string AND t.version = {stateVersion});
            SELECT COUNT(*) FROM noorg_tasks AS t
             WHERE NOT EXISTS (SELECT 1 FROM orleans_grain_state AS s WHERE s.state_name = 'task' AND s.grain_id_string = t.id AND {hasTask});
            SELECT COUNT(*) FROM noorg_tasks;
            SELECT CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts;
            """);
        var figures = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            do
            {
                Assert.True(await reader.ReadAsync());
                figures.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
            while (await reader.NextResultAsync());
        }

        Assert.Equal(0L, figures[0]); // a stored task whose index row is missing or at another version
        Assert.Equal(0L, figures[1]); // an index row without a stored task
        Assert.Equal(figures[2], figures[3]); // the counters count exactly the rows
        var listed = await cluster.Client.GetGrain<ITaskQueryGrain>(0).ListAsync(new TaskQuery(Types: ["kill"], Take: 1000));
        Assert.Subset(listed.Items.Select(t => t.Id).ToHashSet(), acknowledged.ToHashSet()); // acknowledged means indexed
        await tasks.DisposeAsync();
    }

    [SkippableFact]
    public async Task History_keeps_the_newest_entries_and_counts_them_all()
    {
        await using var cluster = await StartAsync(new Dictionary<string, string> { ["NOORG_TASKS_HISTORY_LIMIT"] = "10" });
        var tasks = new TestTasks(cluster.Client);

        // Waiting on a pending dependency, the task is never ready: no dispatcher note slips into its history.
        var dependency = await tasks.CreateAsync(TestTasks.Spec("nobody"));
        var task = await tasks.CreateAsync(TestTasks.Spec("nobody") with { DependsOn = [dependency.Id] });
        var grain = tasks.Grain(task.Id);
        for (var i = 1; i <= 14; i++)
        {
            await grain.UpdateAsync(new TaskUpdate(Name: $"name {i}"), "operator");
        }

        await cluster.Cluster!.DeactivateAsync(grain);
        var all = await grain.GetHistoryAsync(0, 100);
        var middle = await grain.GetHistoryAsync(7, 2);
        var beyond = await grain.GetHistoryAsync(20, 5);

        Assert.Equal((15L, 5, 10), (all.Total, all.Skip, all.Items.Count));
        Assert.Equal(Enumerable.Range(6, 10).Select(i => (long)i), all.Items.Select(e => e.Sequence));
        Assert.Equal("changed name", all.Items[^1].Reason);
        Assert.False(all.HasMore);
        Assert.Equal(7, middle.Skip);
        Assert.Equal([8L, 9L], middle.Items.Select(e => e.Sequence));
        Assert.Empty(beyond.Items);
        Assert.Equal(16, (await grain.UpdateAsync(new TaskUpdate(Name: "once more"), "operator")).Version);
        Assert.Equal(16, (await grain.GetHistoryAsync(0, 100)).Items[^1].Sequence);
        await tasks.DisposeAsync();
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteTaskFreshClusterTests(SqliteClusterFixture fixture) : TaskFreshClusterTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresTaskFreshClusterTests(PostgresClusterFixture fixture) : TaskFreshClusterTests(fixture);
