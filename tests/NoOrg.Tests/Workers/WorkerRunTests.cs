using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Workers;

/// <summary>How the worker SDK runs the tasks its agent holds, against a real cluster.</summary>
public abstract class WorkerRunTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task A_task_running_across_reconnects_runs_its_handler_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"rerun-{Guid.NewGuid():N}";

        // Tasks of 2.5 s on 2 slots, with the worker reconnecting (and being re-sent what it holds) every second.
        await using var worker = await TestWorker.StartAsync(fixture.Client, $"{capability}-w", [capability], 2, TimeSpan.FromMilliseconds(2500));
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await fixture.Client.CreateTaskAsync(new TaskSpec($"rerun {i}", "echo", RequiredCapabilities: [capability]), "test")).Id);
        }

        await Eventually.ReturnsAsync(
            () => Task.WhenAll(ids.Select(id => fixture.Client.GetGrain<ITaskGrain>(id).GetAsync())),
            all => all.All(t => t?.State == TaskState.Completed), TimeSpan.FromSeconds(60), "every task to complete");
        await Task.Delay(TimeSpan.FromSeconds(3)); // long enough for a stale re-sent snapshot to run again, if it could

        Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Handler.Ran.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Service.Reported.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task A_worker_whose_agent_grain_was_lost_is_pushed_tasks_again_soon_after_its_client_loses_a_gateway()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"regain-{Guid.NewGuid():N}";
        var signal = new ClusterChangeSignal();

        // A heartbeat far apart (under the agents' 30 s heartbeat timeout): between two of them, only the burst reconnects.
        await using var worker = await TestWorker.StartAsync(fixture.Client, $"{capability}-w", [capability], 1,
            configure: o => o.HeartbeatInterval = TimeSpan.FromSeconds(25), clusterChanges: signal);
        var first = await fixture.Client.CreateTaskAsync(new TaskSpec("before", "echo", RequiredCapabilities: [capability]), "test");
        await WaitCompletedAsync(first.Id, TimeSpan.FromSeconds(30));

        // The silo that hosted the agent grain went away: the new activation does not know the worker's observer, and
        // the client sees one gateway fewer.
        await fixture.Cluster!.DeactivateAsync(fixture.Client.GetGrain<NoOrg.Grains.Agents.IAgentGrain>(worker.AgentId));
        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);
        var after = await fixture.Client.CreateTaskAsync(new TaskSpec("after", "echo", RequiredCapabilities: [capability]), "test");

        await WaitCompletedAsync(after.Id, TimeSpan.FromSeconds(10));
        Assert.Contains(after.Id, worker.Handler.Ran);
    }

    private Task WaitCompletedAsync(string id, TimeSpan within) =>
        Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ITaskGrain>(id).GetAsync(), t => t?.State == TaskState.Completed, within, $"task {id} to complete");
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWorkerRunTests(SqliteClusterFixture fixture) : WorkerRunTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWorkerRunTests(PostgresClusterFixture fixture) : WorkerRunTests(fixture);
