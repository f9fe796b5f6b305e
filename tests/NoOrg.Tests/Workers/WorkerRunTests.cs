using NoOrg.Client.Tasks;
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
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWorkerRunTests(SqliteClusterFixture fixture) : WorkerRunTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWorkerRunTests(PostgresClusterFixture fixture) : WorkerRunTests(fixture);
