using NoOrg.Client.Tasks;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// Two activations of one task, as a lost silo can leave for a moment: one starts the task, and the other, whose
/// memory still says "assigned", is then asked to complete it. It reads storage again instead of refusing for ever.
/// Two clusters on one database (one service, two cluster ids) make the second activation on purpose.
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class StaleActivationTests
{
    [SkippableFact]
    public async Task A_report_to_an_activation_older_than_storage_is_checked_against_storage()
    {
        var created = await ClusterDatabases.CreateAsync(StorageProvider.Postgres);
        Skip.If(created is null, ClusterDatabases.SkipReason(StorageProvider.Postgres));
        await using var database = created.Value.Database;
        var first = await NoOrgTestCluster.StartAsync(NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, created.Value.ConnectionString), silos: 1);
        TestCluster? second = null;
        try
        {
            second = await NoOrgTestCluster.StartAsync(NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, created.Value.ConnectionString), silos: 1);
            var capability = TestAgents.NewCapability("stale");
            var agentId = $"agent-{Guid.NewGuid():N}";
            await first.Client.GetGrain<IAgentGrain>(agentId).RegisterAsync(TestAgents.Registration([capability]));
            var task = await first.Client.CreateTaskAsync(new TaskSpec("stale", "stale", RequiredCapabilities: [capability]), "test");
            await Eventually.ReturnsAsync(() => first.Client.GetGrain<ITaskGrain>(task.Id).GetAsync(), t => t!.State == TaskState.Assigned,
                TimeSpan.FromSeconds(30), "the task to be assigned");

            var started = await second.Client.GetGrain<ITaskGrain>(task.Id).StartAsync(agentId); // the other activation
            Assert.Equal(TaskState.Running, started.State);
            Assert.Equal(TaskState.Assigned, (await first.Client.GetGrain<ITaskGrain>(task.Id).GetAsync())!.State); // stale memory

            var completed = await first.Client.GetGrain<ITaskGrain>(task.Id).CompleteAsync(agentId, """{"ok":true}""", null);

            Assert.Equal(TaskState.Completed, completed.State);
            Assert.Equal(1, completed.Attempt);
            var history = await first.Client.GetGrain<ITaskGrain>(task.Id).GetHistoryAsync(0, 100);
            Assert.Single(history.Items, e => e.Action == TaskAction.Started);
            Assert.Single(history.Items, e => e.Action == TaskAction.Completed);
        }
        finally
        {
            if (second is not null)
            {
                await second.StopAllSilosAsync();
                await second.DisposeAsync();
            }

            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }
    }
}
