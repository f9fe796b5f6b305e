using NoOrg.Client.Tasks;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Dispatch;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Tasks;
using NoOrg.Tests.Workers;

namespace NoOrg.Tests.Dispatch;

/// <summary>Dispatch order and limits, with real agents and tasks in the shared two-silo clusters.</summary>
public abstract class DispatchTests(ClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    private Task<TaskSnapshot> CreateAsync(string capability, TaskPriority priority = TaskPriority.Medium, IReadOnlyList<string>? dependsOn = null) =>
        Client.CreateTaskAsync(new TaskSpec(Unique("task"), "echo", Priority: priority, RequiredCapabilities: [capability], DependsOn: dependsOn), "test");

    private Task<TaskSnapshot?> GetAsync(string id) => Client.GetGrain<ITaskGrain>(id).GetAsync();

    private Task<AgentSnapshot> RegisterAsync(string id, string capability, int max) =>
        Client.GetGrain<IAgentGrain>(id).RegisterAsync(new AgentRegistration(id, "test", "", [capability], max, new Dictionary<string, string>()));

    private async Task<string> NextAssignedAsync(string agentId)
    {
        var agent = await Eventually.ReturnsAsync(() => Client.GetGrain<IAgentGrain>(agentId).GetAsync(), a => a!.ActiveTaskIds.Count > 0,
            TimeSpan.FromSeconds(30), $"agent {agentId} to receive a task");
        return Assert.Single(agent!.ActiveTaskIds);
    }

    private async Task FinishAsync(string agentId, string taskId)
    {
        var task = Client.GetGrain<ITaskGrain>(taskId);
        await task.StartAsync(agentId);
        await task.CompleteAsync(agentId, "null", TimeSpan.FromMilliseconds(1));
    }

    [SkippableFact]
    public async Task Ready_tasks_go_critical_first_then_by_priority_and_first_come_within_a_priority()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        var low = await CreateAsync(capability, TaskPriority.Low);
        var firstHigh = await CreateAsync(capability, TaskPriority.High);
        var medium = await CreateAsync(capability, TaskPriority.Medium);
        var secondHigh = await CreateAsync(capability, TaskPriority.High);
        var critical = await CreateAsync(capability, TaskPriority.Critical);
        var agentId = Unique("agent");
        await RegisterAsync(agentId, capability, max: 1);

        var order = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var next = await NextAssignedAsync(agentId);
            order.Add(next);
            await FinishAsync(agentId, next);
        }

        string[] expected = [critical.Id, firstHigh.Id, secondHigh.Id, medium.Id, low.Id];
        if (!expected.SequenceEqual(order))
        {
            var histories = new List<string>();
            foreach (var id in expected)
            {
                var h = await Client.GetGrain<ITaskGrain>(id).GetHistoryAsync(0, 100);
                histories.Add(id + ": " + string.Join(" | ", h.Items.Select(e => $"{e.At:HH:mm:ss.fff} {e.Action} {e.Actor} {e.Reason}")));
            }

            Assert.Fail($"order {string.Join(",", order.Select(o => Array.IndexOf(expected, o)))}\n{string.Join("\n", histories)}");
        }
    }

    [SkippableFact]
    public async Task An_agent_never_holds_more_than_its_limit_and_the_rest_say_why()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        var agentId = Unique("agent");
        await RegisterAsync(agentId, capability, max: 2);
        var tasks = new List<TaskSnapshot>();
        for (var i = 0; i < 4; i++)
        {
            tasks.Add(await CreateAsync(capability));
        }

        await Client.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).DispatchNowAsync();
        var states = await Eventually.ReturnsAsync(
            async () => await Task.WhenAll(tasks.Select(t => GetAsync(t.Id))),
            s => s.Count(t => t!.State == TaskState.Assigned) == 2 && s.Count(t => t!.UnassignableReason is not null) == 2,
            TimeSpan.FromSeconds(30), "two assigned and two unassignable");

        Assert.All(states.Where(t => t!.State == TaskState.Pending), t => Assert.Contains("at capacity", t!.UnassignableReason, StringComparison.Ordinal));
        Assert.Equal(2, (await Client.GetGrain<IAgentGrain>(agentId).GetAsync())!.ActiveTaskIds.Count);
    }

    [SkippableFact]
    public async Task The_least_loaded_capable_agent_gets_the_next_task()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        var first = Unique("agent");
        var second = Unique("agent");
        await RegisterAsync(first, capability, max: 4);
        await RegisterAsync(second, capability, max: 4);

        // The next task, once the first is placed: the agent that holds it is the more loaded one.
        var a = await CreateAsync(capability);
        await Eventually.ReturnsAsync(() => GetAsync(a.Id), t => t!.AssignedTo is not null, TimeSpan.FromSeconds(30), "the first task assigned");
        var b = await CreateAsync(capability);

        var holders = await Eventually.ReturnsAsync(
            async () => (await Task.WhenAll(GetAsync(a.Id), GetAsync(b.Id))).Select(t => t!.AssignedTo).ToArray(),
            h => h.All(x => x is not null), TimeSpan.FromSeconds(30), "both tasks assigned");
        Assert.Equal(2, holders.Distinct().Count());
    }

    [SkippableFact]
    public async Task A_task_nobody_can_take_says_no_agent_has_the_capabilities()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var task = await CreateAsync(Unique("nobody-has"));

        await Client.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).DispatchNowAsync();

        var seen = await Eventually.ReturnsAsync(() => GetAsync(task.Id), t => t!.UnassignableReason is not null, TimeSpan.FromSeconds(30), "a reason");
        Assert.Contains("no registered agent has", seen!.UnassignableReason, StringComparison.Ordinal);
        Assert.Equal(TaskState.Pending, seen.State);

        // Once it no longer waits, why nobody took it is not part of it any more.
        var cancelled = await Client.GetGrain<ITaskGrain>(task.Id).CancelAsync("not needed", "test");
        Assert.Null(cancelled.UnassignableReason);
        Assert.Null((await GetAsync(task.Id))!.UnassignableReason);
    }

    [SkippableFact]
    public async Task Older_tasks_nobody_can_take_do_not_hide_a_newer_task_an_idle_agent_can_take()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

        // More unplaceable tasks than one dispatch pass reads, all ahead of the takeable one in dispatch order.
        var nobodyHas = Unique("nobody-has");
        var blocked = new List<string>();
        foreach (var chunk in Enumerable.Range(0, DispatcherGrain.BatchSize + 20).Chunk(16))
        {
            var created = await Task.WhenAll(chunk.Select(_ => CreateAsync(nobodyHas, TaskPriority.Critical)));
            blocked.AddRange(created.Select(t => t.Id));
        }

        try
        {
            var capability = Unique("cap");
            var agentId = Unique("agent");
            await RegisterAsync(agentId, capability, max: 1);
            var takeable = await CreateAsync(capability, TaskPriority.Low);

            Assert.Equal(takeable.Id, await NextAssignedAsync(agentId));
        }
        finally
        {
            foreach (var chunk in blocked.Chunk(16))
            {
                await Task.WhenAll(chunk.Select(id => Client.GetGrain<ITaskGrain>(id).CancelAsync("test clean-up", "test")));
            }
        }
    }

    [SkippableFact]
    public async Task A_stored_task_dispatch_cannot_handle_does_not_stop_dispatch_for_the_others()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));

        // An index row stored before today's limits (more required capabilities than the agent index looks up; written
        // as a state row only the index reads): every pass that reaches it fails on it, and it comes first.
        var bad = Unique("too-many");
        var rows = new TaskStateRows(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"]);
        var capabilities = Enumerable.Range(0, AgentRules.MaxRequiredCapabilities + 8).Select(i => $"{bad}-{i}").ToArray();
        await rows.WriteAsync(TaskIndexTests.Snapshot(bad, priority: TaskPriority.Critical, createdAt: DateTimeOffset.UtcNow.AddDays(-1), capabilities: capabilities));
        try
        {
            var capability = Unique("cap");
            var agentId = Unique("agent");
            await RegisterAsync(agentId, capability, max: 1);
            var takeable = await CreateAsync(capability);

            Assert.Equal(takeable.Id, await NextAssignedAsync(agentId));
        }
        finally
        {
            await rows.ClearAsync(bad);
        }
    }

    [SkippableFact]
    public async Task A_dependent_task_is_dispatched_only_after_its_dependency_completes()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        var agentId = Unique("agent");
        var first = await CreateAsync(capability);
        var second = await CreateAsync(capability, dependsOn: [first.Id]);
        await RegisterAsync(agentId, capability, max: 5);

        Assert.Equal(first.Id, await NextAssignedAsync(agentId));
        await Client.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).DispatchNowAsync();
        Assert.Equal(TaskState.Pending, (await GetAsync(second.Id))!.State);

        await FinishAsync(agentId, first.Id);

        await Eventually.ReturnsAsync(() => GetAsync(second.Id), t => t!.State == TaskState.Assigned, TimeSpan.FromSeconds(30), "the dependent to be assigned");
    }

    [SkippableFact]
    public async Task Cancelling_a_running_task_stops_the_workers_handler()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        await using var worker = await TestWorker.StartAsync(Client, Unique("worker"), [capability], maxConcurrent: 1, workTime: TimeSpan.FromMinutes(5));
        var task = await CreateAsync(capability);
        await Eventually.ReturnsAsync(() => GetAsync(task.Id), t => t!.State == TaskState.Running, TimeSpan.FromSeconds(30), "the worker to start the task");

        await Client.GetGrain<ITaskGrain>(task.Id).CancelAsync("no longer needed", "test");

        await Eventually.ReturnsAsync(() => Task.FromResult(worker.Handler.Cancelled.Contains(task.Id)), x => x, TimeSpan.FromSeconds(30),
            "the handler's cancellation token to fire");
        Assert.Equal(TaskState.Cancelled, (await GetAsync(task.Id))!.State);
        Assert.Empty((await Client.GetGrain<IAgentGrain>(worker.AgentId).GetAsync())!.ActiveTaskIds);
    }

    [SkippableFact]
    public async Task A_worker_runs_its_tasks_and_the_history_shows_every_step()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = Unique("cap");
        await using var worker = await TestWorker.StartAsync(Client, Unique("worker"), [capability], maxConcurrent: 2);
        var task = await Client.CreateTaskAsync(new TaskSpec("greet", "echo", InputJson: "{\"hello\":\"world\"}", RequiredCapabilities: [capability]), "test");

        var done = await Eventually.ReturnsAsync(() => GetAsync(task.Id), t => t!.IsTerminal, TimeSpan.FromSeconds(30), "the worker to finish the task");

        Assert.Equal(TaskState.Completed, done!.State);
        Assert.Equal("{\"hello\":\"world\"}", done.ResultJson?.Replace(" ", "", StringComparison.Ordinal));
        var history = await Client.GetGrain<ITaskGrain>(task.Id).GetHistoryAsync(0, 100);
        Assert.Equal([TaskAction.Created, TaskAction.Assigned, TaskAction.Started, TaskAction.Completed],
            history.Items.Select(e => e.Action).Where(a => a != TaskAction.Unassignable));
        Assert.Equal(worker.AgentId, history.Items.Single(e => e.Action == TaskAction.Assigned).ToAgent);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteDispatchTests(SqliteClusterFixture fixture) : DispatchTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresDispatchTests(PostgresClusterFixture fixture) : DispatchTests(fixture);
