using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Workers;

/// <summary>A worker whose reports the cluster refuses for a while: its slot keeps retrying, says so, and recovers.</summary>
public abstract class WorkerOutageTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task A_slot_that_cannot_report_keeps_retrying_is_unhealthy_meanwhile_and_finishes_every_task_after()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"outage-{Guid.NewGuid():N}";
        var agentId = $"{capability}-w";
        ReportOutage.Begin(agentId);
        try
        {
            // One slot: if its loop ended on the refused report, nothing after the first task would ever run.
            await using var worker = await TestWorker.StartAsync(fixture.Client, agentId, [capability], 1,
                configure: o => o.StalledAfter = TimeSpan.FromSeconds(1));
            var health = new AgentWorkerHealthCheck(worker.Service);
            var ids = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                ids.Add((await fixture.Client.CreateTaskAsync(new TaskSpec($"outage {i}", "echo", RequiredCapabilities: [capability]), "test")).Id);
            }

            var during = await Eventually.ReturnsAsync(() => health.CheckHealthAsync(new HealthCheckContext()),
                r => r.Status == HealthStatus.Unhealthy, TimeSpan.FromSeconds(60), "the worker to report a stalled slot");
            Assert.Contains("slot 0 has failed to report task", during.Description, StringComparison.Ordinal);
            var stalled = Assert.Single(worker.Service.StalledSlots(DateTimeOffset.UtcNow));
            Assert.Contains(nameof(Grains.Errors.UnavailableException), stalled.LastError, StringComparison.Ordinal);
            Assert.Equal(TaskState.Running, (await fixture.Client.GetGrain<ITaskGrain>(stalled.TaskId!).GetAsync())!.State);
            Assert.Empty(worker.Service.Reported);

            ReportOutage.End(agentId);
            await Eventually.ReturnsAsync(
                () => Task.WhenAll(ids.Select(id => fixture.Client.GetGrain<ITaskGrain>(id).GetAsync())),
                all => all.All(t => t?.State == TaskState.Completed), TimeSpan.FromSeconds(60), "every task to complete");
            var after = await Eventually.ReturnsAsync(() => health.CheckHealthAsync(new HealthCheckContext()),
                r => r.Status == HealthStatus.Healthy, TimeSpan.FromSeconds(30), "the worker to be healthy again");
            Assert.Contains("connected", after.Description, StringComparison.Ordinal);
            // The cluster can have a completion before the worker's call has returned and recorded it.
            await Eventually.ReturnsAsync(() => Task.FromResult(worker.Service.Reported.Count), n => n >= ids.Count, TimeSpan.FromSeconds(30),
                "the worker to record every report");
            Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Service.Reported.Order(StringComparer.Ordinal));
            Assert.Equal(ids.Order(StringComparer.Ordinal), worker.Handler.Ran.Order(StringComparer.Ordinal));
        }
        finally
        {
            ReportOutage.End(agentId);
        }
    }

    [Fact]
    public void AddNoOrgWorker_registers_the_worker_health_check()
    {
        var services = new ServiceCollection().AddNoOrgWorker<RecordingHandler>(o => o.AgentId = "a");

        using var provider = services.BuildServiceProvider();
        var registrations = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;

        Assert.Contains(registrations, r => r.Name == WorkerServiceCollectionExtensions.HealthCheckName);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWorkerOutageTests(SqliteClusterFixture fixture) : WorkerOutageTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWorkerOutageTests(PostgresClusterFixture fixture) : WorkerOutageTests(fixture);
