using Microsoft.Extensions.DependencyInjection;
using NoOrg.Client;
using NoOrg.Client.Workers;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Health;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Workers;

namespace NoOrg.Tests.Client;

/// <summary>The typed client (<see cref="INoOrgClient"/>) and the worker's graceful stop, on a two-silo cluster.</summary>
public abstract class NoOrgClientTests(ClusterFixture fixture)
{
    private INoOrgClient Client => new ServiceCollection().AddSingleton(fixture.Client).AddNoOrgClientApi(o => o.Actor = "client-test")
        .BuildServiceProvider().GetRequiredService<INoOrgClient>();

    [SkippableFact]
    public async Task Fifty_tasks_run_through_WaitAsync_and_a_stopped_worker_is_offline_at_once_with_no_health_issue()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var client = Client;
        var capability = $"wait-{Guid.NewGuid():N}";
        var worker = await TestWorker.StartAsync(fixture.Client, $"{capability}-w", [capability], 4);
        try
        {
            var created = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
                client.Tasks.CreateAsync(new TaskSpec($"n{i}", "echo", InputJson: $"{{\"n\":{i}}}", RequiredCapabilities: [capability]))));
            var done = await Task.WhenAll(created.Select(t => client.Tasks.WaitAsync(t.Id, TimeSpan.FromSeconds(90))));

            Assert.All(done, t => Assert.Equal(TaskState.Completed, t.State));
            Assert.Equal(created.Select(t => t.Spec.InputJson), done.Select(t => t.ResultJson));
            Assert.Equal("client-test", (await client.Tasks.HistoryAsync(created[0].Id)).Items[0].Actor);
        }
        finally
        {
            await worker.DisposeAsync();
        }

        var agent = await client.Agents.GetAsync(worker.AgentId); // no wait: offline when the stop returns
        Assert.Equal(AgentStatus.Offline, agent.Status);
        Assert.Empty(agent.ActiveTaskIds);
        var health = await client.Health.CheckNowAsync(worker.AgentId);
        Assert.DoesNotContain(health.Issues, i => i.State == HealthIssueState.Open);
        Assert.DoesNotContain((await client.Health.IssuesAsync()).Items, i => i.AgentId == worker.AgentId);
    }

    [SkippableFact]
    public async Task A_worker_stopped_while_it_holds_a_task_hands_it_back_and_one_set_to_stay_keeps_it()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var client = Client;
        var capability = $"hold-{Guid.NewGuid():N}";
        foreach (var (shutdown, expected) in new[] { (WorkerShutdown.GoOffline, AgentStatus.Offline), (WorkerShutdown.StayRegistered, AgentStatus.Busy) })
        {
            var worker = await TestWorker.StartAsync(fixture.Client, $"{capability}-{shutdown}", [capability], 1, TimeSpan.FromMinutes(5), o => o.OnShutdown = shutdown);
            var task = await client.Tasks.CreateAsync(new TaskSpec("long", "echo", RequiredCapabilities: [capability]));
            await Cluster.Eventually.ReturnsAsync(() => client.Tasks.GetAsync(task.Id), t => t.State == TaskState.Running, TimeSpan.FromSeconds(30), "the task to run");

            await worker.DisposeAsync();

            var agent = await client.Agents.GetAsync(worker.AgentId);
            Assert.Equal(expected, agent.Status);
            var held = shutdown == WorkerShutdown.StayRegistered;
            Assert.Equal(held ? [task.Id] : [], agent.ActiveTaskIds);
            await Cluster.Eventually.ReturnsAsync(() => client.Tasks.GetAsync(task.Id), t => (t.AssignedTo == worker.AgentId) == held,
                TimeSpan.FromSeconds(30), $"the task to be {(held ? "kept" : "handed back")}");
            await client.Tasks.CancelAsync(task.Id, "test over");
        }
    }

    [SkippableFact]
    public async Task WaitAsync_times_out_naming_why_the_task_waits_and_WatchAsync_follows_its_changes()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var client = Client;
        var type = $"nobody-{Guid.NewGuid():N}";
        var task = await client.Tasks.CreateAsync(new TaskSpec("nobody", type, RequiredCapabilities: [type]));
        await Cluster.Eventually.ReturnsAsync(() => client.Tasks.GetAsync(task.Id), t => t.UnassignableReason is not null, TimeSpan.FromSeconds(30), "the dispatcher's verdict");

        var seen = new List<TaskSnapshot>();
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => client.Tasks.WaitAsync(task.Id, TimeSpan.FromSeconds(1), new SyncProgress(seen.Add)));
        Assert.Contains($"task '{task.Id}' did not finish within 00:00:01: it is pending (no registered agent has capabilities", timeout.Message, StringComparison.Ordinal);
        Assert.NotEmpty(seen);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<TaskEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in client.Tasks.WatchAsync(task.Id, stop.Token))
            {
                events.Add(e);
                if (e.Action == TaskAction.Cancelled)
                {
                    return;
                }
            }
        });
        await Cluster.Eventually.ReturnsAsync(async () =>
        {
            await client.Tasks.UpdateAsync(task.Id, new TaskUpdate(Description: $"poke {Guid.NewGuid():N}"));
            await Task.Delay(200);
            return events.Count;
        }, n => n > 0, TimeSpan.FromSeconds(20), "the watcher to see an update");
        await client.Tasks.CancelAsync(task.Id, "done watching");
        await watching;
        Assert.Equal(TaskAction.Cancelled, events[^1].Action);
        Assert.Equal(TaskState.Cancelled, (await client.Tasks.WaitAsync(task.Id, TimeSpan.FromSeconds(5))).State);
    }

    [SkippableFact]
    public async Task A_missing_task_agent_or_saga_is_a_not_found_error_and_a_bad_id_a_validation_error()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var client = Client;

        Assert.Equal("not-found", (await Assert.ThrowsAsync<NotFoundException>(() => client.Tasks.GetAsync($"t-{Guid.NewGuid():N}"))).Code);
        Assert.Equal("not-found", (await Assert.ThrowsAsync<NotFoundException>(() => client.Agents.GetAsync($"a-{Guid.NewGuid():N}"))).Code);
        Assert.Equal("not-found", (await Assert.ThrowsAsync<NotFoundException>(() => client.Sagas.GetAsync($"s-{Guid.NewGuid():N}"))).Code);
        Assert.Equal("validation", (await Assert.ThrowsAsync<ValidationException>(() => client.Tasks.GetAsync(""))).Code);
        Assert.NotNull(await client.Tasks.StatisticsAsync());
        Assert.Contains("order", (await client.Sagas.DefinitionsAsync()).Select(d => d.Name));
    }

    /// <summary>Reports on the caller's thread: <see cref="Progress{T}"/> would post to the thread pool and race the assertion.</summary>
    private sealed class SyncProgress(Action<TaskSnapshot> report) : IProgress<TaskSnapshot>
    {
        public void Report(TaskSnapshot value) => report(value);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteNoOrgClientTests(SqliteClusterFixture fixture) : NoOrgClientTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresNoOrgClientTests(PostgresClusterFixture fixture) : NoOrgClientTests(fixture);
