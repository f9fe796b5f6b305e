using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Agents;

/// <summary>Reservations, releases, workers and hand-backs: what task grains and workers rely on, on SQLite and PostgreSQL.</summary>
public abstract class AgentCapacityTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Reserve_holds_the_task_once_and_writes_nothing_of_its_own()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a", "b"], maxConcurrentTasks: 3));
        var registered = (await agent.GetAsync())!;

        Assert.True(await agent.TryReserveAsync("t1", ["a"]));
        Assert.True(await agent.TryReserveAsync("t1", ["a"]));

        var snapshot = (await agent.GetAsync())!;
        Assert.Equal(["t1"], snapshot.ActiveTaskIds);
        Assert.Equal(registered.Version, snapshot.Version); // the task's write records the hold, not the agent's
        var history = await agent.GetHistoryAsync(0, 10);
        Assert.Equal(AgentEventKind.Registered, Assert.Single(history.Items).Kind); // no task events in the agent's history
    }

    [SkippableFact]
    public async Task Held_tasks_come_back_from_the_task_index_and_the_task_writes_count_the_load()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("held");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks: 3));
        var taskId = await TestAgents.HoldAsync(fixture.Client, id, capability);
        Assert.True(await agent.TryReserveAsync("never-written", [])); // a reservation no task write followed
        var registry = fixture.Client.GetGrain<IAgentRegistryGrain>(0);
        var listed = Assert.Single((await registry.FindAsync(new AgentQuery([capability]))).Items);

        await fixture.Cluster.DeactivateAsync(agent);
        var back = (await agent.GetAsync())!;
        await fixture.Client.GetGrain<ITaskGrain>(taskId).CancelAsync("done with it", "operator");
        var released = await Eventually.ReturnsAsync(agent.GetAsync, a => a!.ActiveTaskIds.Count == 0, Patience, "the cancelled task released");
        var relisted = Assert.Single((await registry.FindAsync(new AgentQuery([capability]))).Items);

        Assert.Equal(1, listed.ActiveTasks);
        Assert.Equal([taskId], back.ActiveTaskIds);
        Assert.Equal(0, relisted.ActiveTasks);
        Assert.Equal(back.Version, released!.Version);
    }

    [SkippableFact]
    public async Task Agent_is_busy_at_its_limit_and_available_again_after_a_release()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"], maxConcurrentTasks: 2));

        Assert.True(await agent.TryReserveAsync("t1", ["a"]));
        Assert.Equal(AgentStatus.Available, (await agent.GetAsync())!.Status);
        Assert.True(await agent.TryReserveAsync("t2", ["a"]));
        var full = (await agent.GetAsync())!;
        Assert.False(await agent.TryReserveAsync("t3", ["a"]));

        await agent.ReleaseAsync("t1");
        await agent.ReleaseAsync("t1"); // not held any more: nothing happens
        var freed = (await agent.GetAsync())!;

        Assert.Equal((AgentStatus.Busy, "at capacity (2/2)"), (full.Status, full.StatusReason));
        Assert.Equal(["t1", "t2"], full.ActiveTaskIds);
        Assert.Equal(AgentStatus.Available, freed.Status);
        Assert.Equal(["t2"], freed.ActiveTaskIds);
        Assert.True(await agent.TryReserveAsync("t3", ["a"]));
        var kinds = (await agent.GetHistoryAsync(0, 100)).Items.Select(e => e.Kind).Reverse();
        Assert.Equal([AgentEventKind.Registered], kinds); // busy follows the load: not a change of the agent's own
        Assert.Equal(AgentStatus.Busy, (await agent.GetAsync())!.Status);
    }

    [SkippableFact]
    public async Task Reserve_needs_every_required_capability()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a", "b"]));

        Assert.False(await agent.TryReserveAsync("t1", ["a", "c"]));
        Assert.False(await agent.TryReserveAsync("t1", ["A"])); // capabilities are compared exactly
        Assert.True(await agent.TryReserveAsync("t1", ["b", "a"]));
        Assert.True(await agent.TryReserveAsync("t2", []));
    }

    [SkippableFact]
    public async Task Draining_agent_keeps_its_tasks_and_refuses_new_ones()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"], maxConcurrentTasks: 5));
        await agent.TryReserveAsync("t1", ["a"]);

        var draining = await agent.SetStatusAsync(AgentStatus.Draining, "deploying");

        Assert.Equal(["t1"], draining.ActiveTaskIds);
        Assert.False(await agent.TryReserveAsync("t2", ["a"]));
        Assert.True(await agent.TryReserveAsync("t1", ["a"])); // it does hold this one
        await agent.ReleaseAsync("t1");
        var drained = (await agent.GetAsync())!;
        Assert.Equal(AgentStatus.Draining, drained.Status);
        Assert.Empty(drained.ActiveTaskIds);

        await agent.SetStatusAsync(AgentStatus.Error, "broken");
        Assert.False(await agent.TryReserveAsync("t3", ["a"]));
    }

    [SkippableFact]
    public async Task Connected_worker_receives_delivered_tasks_and_revocations()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"]));
        var worker = new RecordingAgentWorker();
        var reference = fixture.Client.CreateObjectReference<IAgentWorker>(worker);
        try
        {
            var resumed = await agent.ConnectAsync(reference);
            Assert.Empty(resumed);
            Assert.NotNull((await agent.GetAsync())!.LastHeartbeatAt);

            await agent.DeliverAsync(Snapshot("not-held", id)); // not reserved here: ignored
            Assert.True(await agent.TryReserveAsync("t1", ["a"]));
            await agent.DeliverAsync(Snapshot("t1", id));

            var delivered = await Eventually.ReturnsAsync(() => Task.FromResult(worker.Assigned.ToArray()), a => a.Length > 0, Patience, "the worker to receive t1");
            Assert.Equal("t1", Assert.Single(delivered).Id);

            await agent.UnregisterAsync("replaced");
            var revoked = await Eventually.ReturnsAsync(() => Task.FromResult(worker.Revoked.ToArray()), r => r.Length > 0, Patience, "the worker to hear t1 is revoked");
            Assert.Equal("t1", Assert.Single(revoked).TaskId);
            Assert.Contains("agent unregistered: replaced", revoked[0].Reason, StringComparison.Ordinal);
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IAgentWorker>(reference);
        }
    }

    [SkippableFact]
    public async Task Connect_is_a_heartbeat_and_needs_a_registered_agent()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"]));
        var (_, stranger) = agents.New();
        var worker = new RecordingAgentWorker();
        var reference = fixture.Client.CreateObjectReference<IAgentWorker>(worker);
        try
        {
            await agent.SetStatusAsync(AgentStatus.Offline, "lost contact");
            await agent.ConnectAsync(reference);
            await agent.DisconnectAsync(reference);

            var snapshot = (await agent.GetAsync())!;
            Assert.Equal(AgentStatus.Available, snapshot.Status);
            Assert.NotNull(snapshot.LastHeartbeatAt);
            var details = (await agent.GetHistoryAsync(0, 3)).Items.Select(e => e.Detail).ToList();
            Assert.Equal("worker disconnected", details[0]);
            Assert.Contains("heartbeat", details[1], StringComparison.Ordinal);
            Assert.Equal("worker connected", details[2]);
            await Assert.ThrowsAsync<Grains.Errors.NotFoundException>(() => stranger.ConnectAsync(reference));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IAgentWorker>(reference);
        }
    }

    [SkippableFact]
    public async Task Reconnecting_worker_gets_the_tasks_its_agent_holds()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("resume");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability]));
        var task = await CreateAssignedTaskAsync(capability, id);
        var worker = new RecordingAgentWorker();
        var reference = fixture.Client.CreateObjectReference<IAgentWorker>(worker);
        try
        {
            var held = await agent.ConnectAsync(reference);

            var resumed = Assert.Single(held);
            Assert.Equal((task, TaskState.Assigned, id), (resumed.Id, resumed.State, resumed.AssignedTo));
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IAgentWorker>(reference);
        }
    }

    [SkippableFact]
    public async Task Reconnecting_worker_that_says_what_it_runs_gets_only_the_other_held_tasks()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("resume-running");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability], maxConcurrentTasks: 3));
        var first = await CreateAssignedTaskAsync(capability, id);
        var second = await CreateAssignedTaskAsync(capability, id);
        var worker = new RecordingAgentWorker();
        var reference = fixture.Client.CreateObjectReference<IAgentWorker>(worker);
        try
        {
            var held = await agent.ConnectAsync(reference, [first]);
            Assert.Equal([second], held.Select(t => t.Id));
            Assert.Empty(await agent.ConnectAsync(reference, [first, second]));

            // A task that finished is no longer held, whichever way the agent learns it (its release, or the index on connect).
            await fixture.Client.GetGrain<ITaskGrain>(first).CancelAsync("finished elsewhere", "operator");
            await Eventually.ReturnsAsync(async () =>
            {
                await agent.ConnectAsync(reference, [first, second]);
                return (await agent.GetAsync())!.ActiveTaskIds;
            }, ids => ids.SequenceEqual([second]), Patience, "the cancelled task released");
        }
        finally
        {
            fixture.Client.DeleteObjectReference<IAgentWorker>(reference);
        }
    }

    [SkippableFact]
    public async Task Unregister_hands_held_tasks_back()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("hand-back");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability]));
        var taskId = await CreateAssignedTaskAsync(capability, id);
        Assert.Equal([taskId], (await agent.GetAsync())!.ActiveTaskIds);

        await agent.UnregisterAsync("decommissioned");

        var task = fixture.Client.GetGrain<ITaskGrain>(taskId);
        var handedBack = await Eventually.ReturnsAsync(task.GetAsync, t => t!.AssignedTo is null, Patience, "the task to be handed back");
        Assert.Equal(TaskState.Pending, handedBack!.State);
        var lost = (await task.GetHistoryAsync(0, 100)).Items.Single(e => e.Action == TaskAction.AgentLost);
        Assert.Equal(id, lost.FromAgent);
        Assert.Contains("agent unregistered: decommissioned", lost.Reason, StringComparison.Ordinal);
    }

    private async Task<string> CreateAssignedTaskAsync(string capability, string agentId)
    {
        var task = await TestAgents.CreateTaskAsync(fixture.Client, capability);
        await TestAgents.AssignAsync(task, agentId);
        return task.GetPrimaryKeyString();
    }

    private static TaskSnapshot Snapshot(string taskId, string agentId)
    {
        var now = DateTimeOffset.UtcNow;
        return new TaskSnapshot(taskId, new TaskSpec("delivered", "test"), TaskState.Assigned, agentId, 1, now, now,
            null, null, null, null, null, null, [], null, 1);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentCapacityTests(SqliteClusterFixture fixture) : AgentCapacityTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentCapacityTests(PostgresClusterFixture fixture) : AgentCapacityTests(fixture);
