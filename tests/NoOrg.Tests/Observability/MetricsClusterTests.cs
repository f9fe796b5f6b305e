using NoOrg.Client.Sagas;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Sagas;
using NoOrg.Tests.Tasks;

namespace NoOrg.Tests.Observability;

/// <summary>
/// The noorg.* counters in the shared two-silo clusters, read with a MeterListener. Each test uses a task type (or
/// saga scope name) of its own, so other tests running meanwhile in this process do not show in its sums.
/// </summary>
public abstract class MetricsClusterTests(ClusterFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private TestTasks? tasks;
    private TestAgents? agents;

    private TestTasks Tasks => tasks ??= new TestTasks(fixture.Client);

    private TestAgents Agents => agents ??= new TestAgents(fixture.Client);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (tasks is not null)
        {
            await tasks.DisposeAsync();
        }

        if (agents is not null)
        {
            await agents.DisposeAsync();
        }
    }

    private void SkipWithoutCluster() => Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

    [SkippableFact]
    public async Task Task_counters_count_each_creation_assignment_reassignment_completion_and_failure_exactly_once()
    {
        SkipWithoutCluster();
        using var metrics = new MetricRecorder();
        var capability = TestTasks.NewCapability();
        var type = "obs-" + Guid.NewGuid().ToString("N")[..12];
        var (first, _) = await Agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks: 5));
        var (second, _) = await Agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks: 5));
        var spec = TestTasks.Spec(capability, type, TaskPriority.High) with { MaxAttempts = 1 };

        var completed = await AssignedAsync(spec);
        await Tasks.Grain(completed.Id).StartAsync(completed.AssignedTo!);
        await Tasks.Grain(completed.Id).CompleteAsync(completed.AssignedTo!, "42", TimeSpan.FromMilliseconds(5));
        var failed = await AssignedAsync(spec);
        await Tasks.Grain(failed.Id).StartAsync(failed.AssignedTo!);
        await Tasks.Grain(failed.Id).FailAsync(failed.AssignedTo!, "broken on purpose");
        var moved = await AssignedAsync(spec);
        await Tasks.Grain(moved.Id).ReassignAsync(moved.AssignedTo == first ? second : first, "rebalance", TestTasks.Actor);
        var cancelled = await Tasks.CreateAsync(spec with { RequiredCapabilities = [TestTasks.NewCapability()] });
        await Tasks.Grain(cancelled.Id).CancelAsync("not needed", TestTasks.Actor);

        (string, string)[] tags = [("type", type), ("priority", "high")];
        await Eventually.ReturnsAsync(() => Task.FromResult(metrics.Sum("noorg.tasks.reassignments", tags)), n => n >= 1, Wait, "the reassignment to be counted");
        Assert.Equal(4, metrics.Sum("noorg.tasks.created", tags));
        Assert.Equal(3, metrics.Sum("noorg.tasks.assignments", tags)); // a reassignment is not an assignment
        Assert.Equal(1, metrics.Sum("noorg.tasks.reassignments", tags));
        Assert.Equal(1, metrics.Sum("noorg.tasks.completed", tags));
        Assert.Equal(1, metrics.Sum("noorg.tasks.failed", tags));
        Assert.Equal(1, metrics.Sum("noorg.tasks.cancelled", tags));
        Assert.Equal(0, metrics.Sum("noorg.tasks.retries", tags));
        Assert.Equal(2, metrics.Count("noorg.tasks.wait.duration", tags));
        Assert.Equal(1, metrics.Count("noorg.tasks.run.duration", [.. tags, ("outcome", "completed")]));
        Assert.Equal(1, metrics.Count("noorg.tasks.run.duration", [.. tags, ("outcome", "failed")]));
        Assert.Equal(0, metrics.Sum("noorg.tasks.created", ("type", type), ("priority", "medium")));
    }

    [SkippableFact]
    public async Task A_failed_attempt_with_attempts_left_is_a_retry_not_a_failure()
    {
        SkipWithoutCluster();
        using var metrics = new MetricRecorder();
        var capability = TestTasks.NewCapability();
        var type = "obs-" + Guid.NewGuid().ToString("N")[..12];
        await Agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks: 5));
        var task = await AssignedAsync(TestTasks.Spec(capability, type, TaskPriority.Low) with { MaxAttempts = 2, RetryBackoff = TimeSpan.FromMinutes(10) });
        await Tasks.Grain(task.Id).StartAsync(task.AssignedTo!);
        await Tasks.Grain(task.Id).FailAsync(task.AssignedTo!, "try again");

        (string, string)[] tags = [("type", type), ("priority", "low")];
        Assert.Equal(1, metrics.Sum("noorg.tasks.retries", tags));
        Assert.Equal(0, metrics.Sum("noorg.tasks.failed", tags));
        Assert.Equal(1, metrics.Count("noorg.tasks.run.duration", [.. tags, ("outcome", "failed")]));
    }

    [SkippableFact]
    public async Task Saga_outcomes_and_compensations_are_counted_by_definition()
    {
        SkipWithoutCluster();
        using var metrics = new MetricRecorder();
        var name = "obs-" + Guid.NewGuid().ToString("N")[..12];
        var effects = "effects-" + Guid.NewGuid().ToString("N");
        var aborted = await fixture.Client.BeginCompensationScopeAsync(name);
        await aborted.RecordAsync("flight", SagaTestSiloConfigurator.Undo, new TestSagaInput(effects, Label: "flight").ToJson());
        await aborted.RecordAsync("hotel", SagaTestSiloConfigurator.Undo, new TestSagaInput(effects, Label: "hotel").ToJson());
        await aborted.AbortAsync("payment declined");
        Assert.Equal(SagaStatus.Compensated, (await fixture.Client.WaitForSagaAsync(aborted.Id)).Status);
        var committed = await fixture.Client.BeginCompensationScopeAsync(name);
        await committed.CommitAsync();

        var definition = ("definition", "scope:" + name);
        await Eventually.ReturnsAsync(() => Task.FromResult(metrics.Sum("noorg.sagas.finished", definition)), n => n >= 2, Wait, "both outcomes to be counted");
        Assert.Equal(2, metrics.Sum("noorg.sagas.started", definition));
        Assert.Equal(1, metrics.Sum("noorg.sagas.finished", definition, ("outcome", "compensated")));
        Assert.Equal(1, metrics.Sum("noorg.sagas.finished", definition, ("outcome", "completed")));
        Assert.Equal(2, metrics.Sum("noorg.sagas.finished", definition));
        Assert.Equal(2, metrics.Sum("noorg.sagas.compensations", definition, ("outcome", "compensated")));
        Assert.Equal(0, metrics.Sum("noorg.sagas.compensations", definition, ("outcome", "failed")));
        Assert.Equal(2, metrics.Count("noorg.sagas.duration", definition));
    }

    [SkippableFact]
    public async Task Rate_limit_admits_and_refusals_are_counted_by_policy()
    {
        SkipWithoutCluster();
        using var metrics = new MetricRecorder();
        var name = "obs." + Guid.NewGuid().ToString("N")[..12];
        await fixture.Client.GetGrain<IRateLimitPolicyGrain>(name).SetAsync(new RateLimitPolicy(name, RateLimitKind.FixedWindow, 2, TimeSpan.FromMinutes(1)));
        var key = Guid.NewGuid().ToString();
        await using (await fixture.Client.AcquireAsync(name, key))
        await using (await fixture.Client.AcquireAsync(name, key))
        {
        }

        await Assert.ThrowsAsync<RateLimitExceededException>(() => fixture.Client.AcquireAsync(name, key));

        Assert.Equal(2, metrics.Sum("noorg.ratelimit.admitted", ("policy", name)));
        Assert.Equal(1, metrics.Sum("noorg.ratelimit.refused", ("policy", name)));
    }

    private async Task<TaskSnapshot> AssignedAsync(TaskSpec spec)
    {
        var created = await Tasks.CreateAsync(spec);
        return await Tasks.WaitAsync(created.Id, t => t.State == TaskState.Assigned, "the dispatcher to assign the task");
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteMetricsClusterTests(SqliteClusterFixture fixture) : MetricsClusterTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresMetricsClusterTests(PostgresClusterFixture fixture) : MetricsClusterTests(fixture);
