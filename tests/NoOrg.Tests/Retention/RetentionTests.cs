using NoOrg.Client.Sagas;
using NoOrg.Configuration;
using NoOrg.Grains.Retention;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Storage.Statistics;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Sagas;
using static NoOrg.Tests.Sagas.SagaTestSiloConfigurator;

namespace NoOrg.Tests.Retention;

/// <summary>Each kind of data goes once past its retention, whole, and what statistics and estimates read stays.</summary>
public abstract class RetentionTests(StorageProvider provider)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task Finished_sagas_are_removed_whole_and_unfinished_ones_stay()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>());
        var effects = "effects-" + Guid.NewGuid().ToString("N");
        var completed = await rc.Client.StartSagaAsync(Chain, new TestSagaInput(effects).ToJson());
        var compensated = await rc.Client.StartSagaAsync(Chain, new TestSagaInput(effects, FailAt: "s3").ToJson());
        var open = await rc.Client.BeginCompensationScopeAsync("booking");
        await open.RecordAsync("flight", Undo, new TestSagaInput(effects, Label: "flight").ToJson());
        await rc.Client.WaitForSagaAsync(completed.Id);
        await rc.Client.WaitForSagaAsync(compensated.Id);
        Assert.True(await rc.CountAsync("orleans_grain_state", $"grain_id_string LIKE '{compensated.Id}:%'") >= 3);

        await Eventually.ReturnsAsync(async () =>
        {
            await rc.Retention.RunAsync();
            return await rc.CountAsync("noorg_sagas", "status IN ('completed', 'compensated')");
        }, n => n == 0, Wait, "finished sagas to be removed");

        foreach (var id in new[] { completed.Id, compensated.Id })
        {
            Assert.Null(await rc.Client.GetGrain<ISagaGrain>(id).GetAsync());
            Assert.Equal(0, await rc.CountAsync("orleans_grain_state", $"grain_id_string = '{id}' OR grain_id_string LIKE '{id}:%'"));
        }

        Assert.Equal(SagaStatus.Running, (await rc.Client.GetGrain<ISagaGrain>(open.Id).GetAsync())!.Status);
        Assert.Equal(1, await rc.CountAsync("noorg_sagas"));
        Assert.Empty(await rc.PartialSagasAsync());

        // A saga started again under a removed id starts clean: its step grains forgot the old outcomes.
        var again = await rc.Client.StartSagaAsync(Chain, new TestSagaInput(effects).ToJson(), completed.Id);
        var rerun = await rc.Client.WaitForSagaAsync(again.Id);
        Assert.Equal(SagaStatus.Completed, rerun.Status);
        Assert.Equal(3, (await rc.Client.GetGrain<ISagaEffectsGrain>(effects).GetAsync()).CallsOf("do:s1"));
    }

    [SkippableFact]
    public async Task An_abandoned_compensation_scope_times_out_and_is_compensated_with_the_reason_in_its_log()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>
        {
            ["NOORG_SAGAS_SCOPE_TIMEOUT_SECONDS"] = "10", // long enough that the scopes in use do not time out under CI load
            ["NOORG_SAGAS_RESUME_PERIOD_SECONDS"] = "1",
            ["NOORG_RETENTION_SAGA_HOURS"] = "1",
        });
        var effects = "effects-" + Guid.NewGuid().ToString("N");
        var scope = await rc.Client.BeginCompensationScopeAsync("booking");
        await scope.RecordAsync("flight", Undo, new TestSagaInput(effects, Label: "flight").ToJson());
        await scope.RecordAsync("hotel", Undo, new TestSagaInput(effects, Label: "hotel").ToJson());
        var kept = await rc.Client.BeginCompensationScopeAsync("booking");
        await kept.RecordAsync("car", Undo, new TestSagaInput(effects, Label: "car").ToJson());
        Assert.Equal(SagaStatus.Completed, (await kept.CommitAsync()).Status);

        var saga = await Eventually.ReturnsAsync(() => rc.Client.GetGrain<ISagaGrain>(scope.Id).GetAsync(),
            s => s is { Status: SagaStatus.Compensated }, Wait, "the abandoned scope to be compensated");

        var log = (await rc.Client.GetGrain<ISagaGrain>(scope.Id).GetLogAsync(0, 100)).Items;
        var aborted = Assert.Single(log, e => e.Action == SagaLogAction.Aborted);
        Assert.Contains("timed out", aborted.Detail, StringComparison.Ordinal);
        Assert.StartsWith("aborted: timed out", saga!.Error, StringComparison.Ordinal);
        Assert.Equal(["undo:hotel", "undo:flight"], (await rc.Client.GetGrain<ISagaEffectsGrain>(effects).GetAsync()).Applied);
        Assert.Equal(SagaStatus.Completed, (await rc.Client.GetGrain<ISagaGrain>(kept.Id).GetAsync())!.Status);
    }

    /// <summary>
    /// A scope whose own reminder will not come in time (scopes opened before scopes armed one have none) is timed out
    /// by the retention run instead; a scope still within its time-out is left open.
    /// </summary>
    [SkippableFact]
    public async Task Retention_times_out_an_abandoned_scope_whose_reminder_does_not_come()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>
        {
            ["NOORG_SAGAS_SCOPE_TIMEOUT_SECONDS"] = "10", // long enough that the scopes in use do not time out under CI load
            ["NOORG_SAGAS_RESUME_PERIOD_SECONDS"] = "3600", // the scope's reminder first fires in an hour
            ["NOORG_RETENTION_SAGA_HOURS"] = "1",
        });
        var effects = "effects-" + Guid.NewGuid().ToString("N");
        var scope = await rc.Client.BeginCompensationScopeAsync("booking");
        await scope.RecordAsync("flight", Undo, new TestSagaInput(effects, Label: "flight").ToJson());
        await Task.Delay(TimeSpan.FromSeconds(11));
        var fresh = await rc.Client.BeginCompensationScopeAsync("booking");

        var run = await rc.Retention.RunAsync();
        Assert.Equal(1, run.Removed[RetentionKinds.AbandonedScopes]);
        var saga = await Eventually.ReturnsAsync(() => rc.Client.GetGrain<ISagaGrain>(scope.Id).GetAsync(),
            s => s is { Status: SagaStatus.Compensated }, Wait, "the abandoned scope to be compensated");
        Assert.StartsWith("aborted: timed out", saga!.Error, StringComparison.Ordinal);
        Assert.Equal(["undo:flight"], (await rc.Client.GetGrain<ISagaEffectsGrain>(effects).GetAsync()).Applied);
        Assert.Equal(SagaStatus.Running, (await rc.Client.GetGrain<ISagaGrain>(fresh.Id).GetAsync())!.Status);
        Assert.Equal(0, (await rc.Retention.RunAsync()).Removed[RetentionKinds.AbandonedScopes]); // nothing left to time out
    }

    [SkippableFact]
    public async Task Samples_beyond_the_window_go_and_estimates_and_statistics_read_the_same()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>());
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 30; i++)
        {
            await InsertSampleAsync(rc, "t", "a", 100 + (i * 37 % 500), now - TimeSpan.FromHours(1) - TimeSpan.FromSeconds(i));
        }

        for (var i = 0; i < 3; i++)
        {
            await InsertSampleAsync(rc, "t", "a", 900 + i, now - TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(i));
            await InsertSampleAsync(rc, "t", "b", 50 + i, now - TimeSpan.FromHours(2) - TimeSpan.FromSeconds(i));
        }

        var queries = rc.Client.GetGrain<ITaskQueryGrain>(0);
        var before = (await queries.EstimateAsync("t", "a", TaskPriority.Medium), await queries.EstimateAsync("t", null, TaskPriority.Medium),
            await queries.EstimateAsync("t", "b", TaskPriority.Medium), await queries.StatisticsAsync());

        var run = await rc.Retention.RunAsync();

        Assert.Equal(23, run.Removed[RetentionKinds.TaskSamples]);
        Assert.Equal(10, await rc.CountAsync("noorg_task_samples", "agent_id = 'a'"));
        Assert.Equal(3, await rc.CountAsync("noorg_task_samples", "agent_id = 'b'"));
        var after = (await queries.EstimateAsync("t", "a", TaskPriority.Medium), await queries.EstimateAsync("t", null, TaskPriority.Medium),
            await queries.EstimateAsync("t", "b", TaskPriority.Medium), await queries.StatisticsAsync());
        Assert.Equal(before.Item1, after.Item1);
        Assert.Equal(before.Item2, after.Item2);
        Assert.Equal(before.Item3, after.Item3);
        Assert.Equal(before.Item4.MedianProcessingTime, after.Item4.MedianProcessingTime);
        Assert.Equal(before.Item4.P90ProcessingTime, after.Item4.P90ProcessingTime);
        Assert.Equal(before.Item4.CompletionsPerMinute, after.Item4.CompletionsPerMinute);
        Assert.Equal(0, (await rc.Retention.RunAsync()).Removed[RetentionKinds.TaskSamples]); // idempotent
    }

    [SkippableFact]
    public async Task Counter_rows_at_zero_go_and_the_counts_stay_right()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>());
        var gone = "gone-" + Guid.NewGuid().ToString("N")[..8];
        var kept = "kept-" + Guid.NewGuid().ToString("N")[..8];
        var tasks = new NoOrg.Tests.Tasks.TestTasks(rc.Client);
        for (var i = 0; i < 3; i++)
        {
            var created = await tasks.CreateAsync(NoOrg.Tests.Tasks.TestTasks.Spec("nobody", gone));
            await tasks.Grain(created.Id).CancelAsync("not needed", "test");
        }

        await tasks.CreateAsync(NoOrg.Tests.Tasks.TestTasks.Spec("nobody", kept));
        var queries = rc.Client.GetGrain<ITaskQueryGrain>(0);
        Assert.Equal(3, await queries.CleanupAsync(TimeSpan.Zero)); // the cancelled ones go: their counters fall to zero
        Assert.True(await rc.CountAsync("noorg_task_group_counts", $"type = '{gone}'") > 0);
        var before = await queries.StatisticsAsync();

        var run = await rc.Retention.RunAsync();

        Assert.True(run.Removed[RetentionKinds.TaskCounters] > 0);
        Assert.Equal(0, await rc.CountAsync("noorg_task_counts", "tally = 0"));
        Assert.Equal(0, await rc.CountAsync("noorg_task_group_counts", "tally = 0"));
        Assert.Equal(0, await rc.CountAsync("noorg_task_group_counts", $"type = '{gone}'"));
        Assert.Equal(1, await rc.CountAsync("noorg_task_group_counts", $"type = '{kept}'"));
        var after = await queries.StatisticsAsync();
        Assert.Equal((before.Total, before.ByType[kept], before.ByState[TaskState.Pending]), (after.Total, after.ByType[kept], after.ByState[TaskState.Pending]));
        Assert.Equal(before.ByState, after.ByState);

        // The counters go on from there: the type counts again once a task of it is stored.
        await tasks.CreateAsync(NoOrg.Tests.Tasks.TestTasks.Spec("nobody", gone));
        Assert.Equal(1, (await queries.StatisticsAsync()).ByType[gone]);
        Assert.Equal(0, (await rc.Retention.RunAsync()).Removed[RetentionKinds.TaskCounters]);
        await tasks.DisposeAsync();
    }

    [SkippableFact]
    public async Task Resolved_issues_and_dead_letters_past_retention_go_and_open_or_recent_ones_stay()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>());
        var now = DateTimeOffset.UtcNow;
        await InsertIssueAsync(rc, "old-resolved", resolvedAt: now - TimeSpan.FromHours(1));
        await InsertIssueAsync(rc, "old-open", resolvedAt: null);
        await InsertIssueAsync(rc, "fresh-resolved", resolvedAt: now + TimeSpan.FromHours(1));
        var service = rc.Cluster.Options.ServiceId;
        await InsertDeadLetterAsync(rc, service, "old", now - TimeSpan.FromHours(1));
        await InsertDeadLetterAsync(rc, service, "fresh", now + TimeSpan.FromHours(1));

        var run = await rc.Retention.RunAsync();

        Assert.Equal(1, run.Removed[RetentionKinds.HealthIssues]);
        Assert.Equal(["fresh-resolved", "old-open"], (await rc.StringsAsync("SELECT issue_id FROM noorg_health_issues ORDER BY issue_id")).ToArray());
        Assert.Equal(1, run.Removed[RetentionKinds.DeadLetters]);
        Assert.Equal(["fresh"], (await rc.StringsAsync("SELECT message_id FROM noorg_outbox")).ToArray());

        await using var connection = await StorageConnections.OpenAsync(rc.Dialect, rc.ConnectionString, CancellationToken.None);
        var stats = (await DataStatistics.ReadAsync(connection, rc.Dialect)).ToDictionary(s => s.Kind);
        Assert.Equal(2, stats["health-issues"].Rows);
        Assert.Equal(1, stats["dead-letters"].Rows);
        Assert.True(stats["dead-letters"].Bytes > 0);
        Assert.Equal(1, stats["dead-letters"].RemovedTotal);
        Assert.NotNull(stats["sagas"].LastCleanup);
        Assert.NotNull(stats["tasks"].LastCleanup);
        Assert.NotNull(stats["health-issues"].Oldest);
    }

    [SkippableFact]
    public async Task A_purged_task_leaves_no_grain_state_row_and_no_index_row()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>());
        var id = "task-" + Guid.NewGuid().ToString("N");
        await rc.Client.GetGrain<ITaskGrain>(id).CreateAsync(new TaskSpec("kept briefly", "echo", RequiredCapabilities: ["nobody-" + id]), "test");
        await rc.Client.GetGrain<ITaskGrain>(id).CancelAsync("done with it", "test");
        Assert.Equal(1, await rc.CountAsync("orleans_grain_state", $"state_name = 'task' AND grain_id_string = '{id}'"));

        await Eventually.ReturnsAsync(async () =>
        {
            await rc.Retention.RunAsync();
            return await rc.CountAsync("orleans_grain_state", $"state_name = 'task' AND grain_id_string = '{id}'");
        }, n => n == 0, Wait, "the purged task's state row to go");

        Assert.Equal(0, await rc.CountAsync("noorg_tasks"));
        Assert.Equal(0, await rc.CountAsync("noorg_task_events"));
        Assert.Null(await rc.Client.GetGrain<ITaskGrain>(id).GetAsync());
    }

    private static Task InsertSampleAsync(RetentionCluster rc, string type, string agent, long ms, DateTimeOffset at) => rc.ExecuteAsync(
        "INSERT INTO noorg_task_samples (task_id, type, agent_id, processing_ms, completed_at) VALUES (@task, @type, @agent, @ms, @at)",
        ("@task", "sample-" + Guid.NewGuid().ToString("N")), ("@type", type), ("@agent", agent), ("@ms", ms), ("@at", rc.Time(at)));

    private static Task InsertIssueAsync(RetentionCluster rc, string id, DateTimeOffset? resolvedAt)
    {
        var opened = DateTimeOffset.UtcNow - TimeSpan.FromDays(1);
        return rc.ExecuteAsync("""
            INSERT INTO noorg_health_issues (issue_id, agent_id, check_name, severity, state, detail, occurrences, opened_at, updated_at, resolved_at, resolved_by, note)
            VALUES (@id, 'agent', 'heartbeat', 'Unhealthy', @state, 'detail', 1, @opened, @opened, @resolved, NULL, NULL)
            """, ("@id", id), ("@state", resolvedAt is null ? "Open" : "Resolved"), ("@opened", opened), ("@resolved", (object?)resolvedAt ?? DBNull.Value));
    }

    private static Task InsertDeadLetterAsync(RetentionCluster rc, string service, string id, DateTimeOffset updatedAt) => rc.ExecuteAsync(
        $"""
        INSERT INTO noorg_outbox (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key, message, attempts, dead, updated_at)
        VALUES (@service, 'task', 'some-task', @id, 'Webhook', 'http://127.0.0.1:9/', '', {(rc.Dialect == StorageDialect.Postgres ? "'{}'::jsonb" : "'{}'")}, 5, {(rc.Dialect == StorageDialect.Postgres ? "true" : "1")}, @at)
        """, ("@service", service), ("@id", id), ("@at", rc.Time(updatedAt, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'")));
}

public sealed class SqliteRetentionTests() : RetentionTests(StorageProvider.Sqlite);

public sealed class PostgresRetentionTests() : RetentionTests(StorageProvider.Postgres);
