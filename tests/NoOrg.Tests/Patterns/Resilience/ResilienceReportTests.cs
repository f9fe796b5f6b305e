using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains.Patterns.Resilience;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Patterns.Resilience;

/// <summary>What `noorg resilience` relies on: one report grain per silo, each answering for its own silo.</summary>
public abstract class ResilienceReportTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task Each_silo_reports_its_own_breakers()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var destination = "report-" + Guid.NewGuid().ToString("N");
        var first = (InProcessSiloHandle)fixture.Cluster.Silos[0];
        var resilience = first.SiloHost.Services.GetRequiredService<IOutboundResilience>();
        Assert.Equal(1, await resilience.Pipeline(destination).ExecuteAsync(_ => ValueTask.FromResult(1)));

        var hosts = await fixture.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var reports = await Task.WhenAll(hosts.Keys.Select(s => fixture.Client.GetGrain<IResilienceReportGrain>(s.ToParsableString()).GetAsync()));

        Assert.Equal(hosts.Count, reports.Select(r => r.Silo).Distinct().Count());
        var withBreaker = Assert.Single(reports, r => r.Breakers.Any(b => b.Destination == destination));
        Assert.Equal(first.SiloAddress.ToString(), withBreaker.Silo);
        Assert.Equal(BreakerState.Closed, withBreaker.Breakers.Single(b => b.Destination == destination).State);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteResilienceReportTests(SqliteClusterFixture fixture) : ResilienceReportTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresResilienceReportTests(PostgresClusterFixture fixture) : ResilienceReportTests(fixture);
