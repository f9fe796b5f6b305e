using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Tasks;
using Orleans.TestingHost;

namespace NoOrg.Tests.Observability;

/// <summary>
/// Cluster-wide gauges come from the database's counters and are reported by one silo of the two, so the sum over
/// silos is the cluster's count. A cluster of its own, so the counts are exactly this test's.
/// </summary>
public sealed class ClusterGaugeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [SkippableTheory]
    [InlineData(StorageProvider.Postgres)]
    [InlineData(StorageProvider.Sqlite)]
    public async Task Tasks_by_state_and_agents_by_status_are_reported_once_across_two_silos(StorageProvider provider)
    {
        await using var fresh = await FreshCluster.StartAsync(provider, new Dictionary<string, string> { ["NOORG_METRICS_CLUSTER_REFRESH_SECONDS"] = "1", ["NOORG_METRICS_DATA_REFRESH_SECONDS"] = "1" });
        Skip.If(fresh is null, ClusterDatabases.SkipReason(provider));
        var cluster = fresh.Cluster!;
        var silos = cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services).ToArray();
        Assert.Equal(2, silos.Length);
        var scopes = silos.Select(s => (object)s.GetRequiredService<IMeterFactory>()).ToArray();
        using var metrics = new MetricRecorder(i => i.Meter.Name == ClusterGauges.MeterName && scopes.Contains(i.Meter.Scope));

        await using var tasks = new TestTasks(fresh.Client);
        await using var agents = new TestAgents(fresh.Client);
        var nobody = TestTasks.NewCapability();
        for (var i = 0; i < 3; i++)
        {
            await tasks.CreateAsync(TestTasks.Spec(nobody));
        }

        var cancelled = await tasks.CreateAsync(TestTasks.Spec(nobody));
        await tasks.Grain(cancelled.Id).CancelAsync("not needed", TestTasks.Actor);
        await agents.RegisterAsync(TestAgents.Registration([TestTasks.NewCapability()]));

        var seen = await Eventually.ReturnsAsync(
            () => Task.FromResult(metrics.Observe("noorg.tasks.by_state")),
            m => Value(m, "state", "pending") == 3 && Value(m, "state", "cancelled") == 1, Wait, "the gauge to show 3 pending and 1 cancelled");
        Assert.Single(seen.Select(m => m.Scope).Distinct()); // one silo reports, the other stays silent
        Assert.Equal(0, Value(seen, "state", "completed"));
        Assert.Equal(6, seen.Count); // one series per state, once

        var agentsSeen = await Eventually.ReturnsAsync(
            () => Task.FromResult(metrics.Observe("noorg.agents.by_status")),
            m => Value(m, "status", "available") == 1, Wait, "the gauge to show the one available agent");
        Assert.Single(agentsSeen.Select(m => m.Scope).Distinct());
        Assert.Equal(Enum.GetValues<AgentStatus>().Length, agentsSeen.Count);

        var reporters = silos.Count(s => s.GetRequiredService<ClusterGauges>().IsReporter);
        Assert.Equal(1, reporters);

        // What each kind of data holds, as noorg db stats reads it, and retention's record once it has run.
        var rows = await Eventually.ReturnsAsync(
            () => Task.FromResult(metrics.Observe("noorg.data.rows")),
            m => Value(m, "kind", "tasks") == 4 && Value(m, "kind", "agents") == 1, Wait, "the data gauge to show 4 tasks and 1 agent");
        Assert.Single(rows.Select(m => m.Scope).Distinct());
        Assert.Equal(rows.Count, rows.Select(m => m.Tags["kind"]).Distinct().Count()); // one series per kind, once
        Assert.Equal(0, Value(rows, "kind", "sagas"));
        Assert.True(Value(metrics.Observe("noorg.data.bytes"), "kind", "tasks") > 0);

        await fresh.Client.GetGrain<NoOrg.Grains.Retention.IRetentionGrain>(NoOrg.Grains.Retention.IRetentionGrain.Key).RunAsync();
        var ran = await Eventually.ReturnsAsync(
            () => Task.FromResult(metrics.Observe("noorg.retention.last_run.age")),
            m => m.Any(r => r.Tags["kind"] == "sagas"), Wait, "the retention gauges to show the run");
        Assert.All(ran, r => Assert.InRange(r.Value, 0, 60));
        Assert.Equal(0, Value(metrics.Observe("noorg.retention.removed"), "kind", "tasks")); // nothing was old enough
    }

    private static double Value(IReadOnlyList<MetricRecorder.Recorded> measurements, string tag, string value) =>
        measurements.Where(m => m.Tags.GetValueOrDefault(tag) == value).Sum(m => m.Value);
}
