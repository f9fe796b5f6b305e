using Microsoft.Extensions.Diagnostics.HealthChecks;
using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Workers;

/// <summary>Two worker processes with one agent id: the second is refused while the first serves it (docs/agents.md).</summary>
public abstract class DuplicateWorkerTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task A_second_worker_with_the_same_agent_id_is_refused_until_the_first_stops()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"dup-{Guid.NewGuid():N}";
        var agentId = $"{capability}-w";
        var first = await TestWorker.StartAsync(fixture.Client, agentId, [capability], 2);
        await using var second = await TestWorker.StartAsync(fixture.Client, agentId, [capability], 2);
        try
        {
            var refused = await Eventually.ReturnsAsync(() => Task.FromResult(second.Service.Connection), c => c.RefusedBecause is not null,
                TimeSpan.FromSeconds(30), "the second worker to be refused");
            Assert.Contains(agentId, refused.RefusedBecause, StringComparison.Ordinal);
            Assert.Contains("another worker process", refused.RefusedBecause, StringComparison.Ordinal);
            var health = await new AgentWorkerHealthCheck(second.Service).CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Contains(agentId, health.Description, StringComparison.Ordinal);

            var served = await fixture.Client.CreateTaskAsync(new TaskSpec("served by the first", "echo", RequiredCapabilities: [capability]), "test");
            await WaitCompletedAsync(served.Id);
            Assert.Contains(served.Id, first.Handler.Ran);
            Assert.Empty(second.Handler.Ran);

            // A clean stop disconnects the first; the standby is admitted at its next heartbeat and takes the work.
            await first.DisposeAsync();
            await Eventually.ReturnsAsync(() => Task.FromResult(second.Service.Connection), c => c.Connected,
                TimeSpan.FromSeconds(30), "the second worker to be admitted");
            var taken = await fixture.Client.CreateTaskAsync(new TaskSpec("served by the second", "echo", RequiredCapabilities: [capability]), "test");
            await WaitCompletedAsync(taken.Id);
            Assert.Equal([taken.Id], second.Handler.Ran);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    private Task WaitCompletedAsync(string id) => Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ITaskGrain>(id).GetAsync(),
        t => t?.State == TaskState.Completed, TimeSpan.FromSeconds(60), $"task {id} to complete");
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteDuplicateWorkerTests(SqliteClusterFixture fixture) : DuplicateWorkerTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresDuplicateWorkerTests(PostgresClusterFixture fixture) : DuplicateWorkerTests(fixture);
