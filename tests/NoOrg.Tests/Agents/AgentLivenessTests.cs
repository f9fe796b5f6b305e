using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Agents;

/// <summary>Heartbeat timeout and history bounds, each on a cluster of its own with short settings, on SQLite and PostgreSQL.</summary>
public abstract class AgentLivenessTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Silent_agent_goes_offline_hands_its_tasks_back_and_returns_on_a_heartbeat()
    {
        var settings = new Dictionary<string, string>
        {
            ["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = "2",
            ["NOORG_AGENT_HEALTH_CHECK_INTERVAL_SECONDS"] = "1",
            ["NOORG_AGENT_HEALTH_GRACE_PERIOD_SECONDS"] = "0",
        };
        await WithClusterAsync(settings, async cluster =>
        {
            var capability = TestAgents.NewCapability("liveness");
            var task = await TestAgents.CreateTaskAsync(cluster.Client, capability);
            var id = $"agent-{Guid.NewGuid():N}";
            var agent = cluster.Client.GetGrain<IAgentGrain>(id);
            await agent.RegisterAsync(TestAgents.Registration([capability]));
            await TestAgents.AssignAsync(task, id);

            var offline = await Eventually.ReturnsAsync(agent.GetAsync, a => a!.Status == AgentStatus.Offline, Patience, "the silent agent to go offline");
            Assert.StartsWith("no heartbeat for ", offline!.StatusReason, StringComparison.Ordinal);
            Assert.Empty(offline.ActiveTaskIds);
            var handedBack = await Eventually.ReturnsAsync(task.GetAsync, t => t!.AssignedTo is null, Patience, "the task to be handed back");
            Assert.Equal(TaskState.Pending, handedBack!.State);
            var lost = (await task.GetHistoryAsync(0, 100)).Items.Single(e => e.Action == TaskAction.AgentLost);
            Assert.Contains("agent unhealthy: heartbeat: no heartbeat for ", lost.Reason, StringComparison.Ordinal);

            // The agent's load in the index is counted from the task rows, so it drops with the task's hand-back write.
            var listed = Assert.Single((await cluster.Client.GetGrain<IAgentRegistryGrain>(0).FindAsync(new AgentQuery([capability]))).Items);
            Assert.Equal((AgentStatus.Offline, 0), (listed.Status, listed.ActiveTasks));

            var back = await agent.HeartbeatAsync();
            Assert.Equal(AgentStatus.Available, back.Status);
            Assert.Null(back.StatusReason);
            var kinds = (await agent.GetHistoryAsync(0, 100)).Items.Select(e => (e.Kind, e.Status)).ToList();
            Assert.Contains((AgentEventKind.TaskReleased, AgentStatus.Offline), kinds);
            Assert.Contains((AgentEventKind.StatusChanged, AgentStatus.Offline), kinds);
        });
    }

    [SkippableFact]
    public async Task History_keeps_the_newest_entries_and_counts_them_all()
    {
        await WithClusterAsync(new() { ["NOORG_AGENTS_HISTORY_LIMIT"] = "10" }, async cluster =>
        {
            var agent = cluster.Client.GetGrain<IAgentGrain>($"agent-{Guid.NewGuid():N}");
            await agent.RegisterAsync(TestAgents.Registration(["a"]));
            for (var i = 0; i < 16; i++)
            {
                await agent.UpdateAsync(new AgentUpdate(Name: $"name {i}"));
            }

            await cluster.DeactivateAsync(agent);
            var all = await agent.GetHistoryAsync(0, 100);
            var tail = await agent.GetHistoryAsync(8, 100);

            Assert.Equal(17, all.Total);
            Assert.Equal(Enumerable.Range(8, 10).Select(i => (long)i).Reverse(), all.Items.Select(e => e.Sequence));
            Assert.Equal(AgentEventKind.Updated, all.Items[0].Kind);
            Assert.Contains("Name", all.Items[0].Detail, StringComparison.Ordinal);
            Assert.Equal([9L, 8], tail.Items.Select(e => e.Sequence));
        });
    }

    private Task WithClusterAsync(Dictionary<string, string> settings, Func<TestCluster, Task> test) =>
        OwnCluster.RunAsync(fixture.Provider, settings, test);
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentLivenessTests(SqliteClusterFixture fixture) : AgentLivenessTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentLivenessTests(PostgresClusterFixture fixture) : AgentLivenessTests(fixture);
