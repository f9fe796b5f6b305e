using System.Diagnostics;
using NoOrg.Configuration;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Cluster;

/// <summary>
/// A killed silo's grains come back on the survivor, with their state, using the production timeout defaults.
/// The time it takes is written to the test output (a figure to read, not a timing assertion).
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Grain_of_a_killed_silo_is_reactivated_on_the_survivor_with_its_state()
    {
        var created = await ClusterDatabases.CreateAsync(StorageProvider.Postgres);
        Skip.If(created is null, ClusterDatabases.SkipReason(StorageProvider.Postgres));
        await using var database = created.Value.Database;
        var properties = NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, created.Value.ConnectionString);
        var defaults = new TimeoutSettings();
        properties["NOORG_TIMEOUTS_PROBE_SECONDS"] = defaults.ProbeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        properties["NOORG_TIMEOUTS_RESPONSE_SECONDS"] = defaults.ResponseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var cluster = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            // Find a grain living on the secondary silo, so the client's gateway (the primary) survives the kill. Under
            // load the secondary can take a while to be offered new activations after the cluster starts: keep looking.
            var secondary = cluster.SecondarySilos[0];
            IDurableCounterGrain? victim = null;
            var looking = Stopwatch.StartNew();
            while (victim is null && looking.Elapsed < TimeSpan.FromSeconds(60))
            {
                for (var i = 0; i < 50 && victim is null; i++)
                {
                    var candidate = cluster.Client.GetGrain<IDurableCounterGrain>(Guid.NewGuid().ToString());
                    if ((await candidate.WhereAsync()).Contains(secondary.SiloAddress.ToString(), StringComparison.Ordinal))
                    {
                        victim = candidate;
                    }
                }

                if (victim is null)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(500));
                }
            }

            Assert.NotNull(victim);
            await victim.AddAsync(5, "before the kill");

            var clock = Stopwatch.StartNew();
            await cluster.KillSiloAsync(secondary);
            var where = await victim.WhereAsync(); // retried by the client until the survivor answers
            var state = await victim.GetAsync();
            clock.Stop();

            Assert.DoesNotContain(secondary.SiloAddress.ToString(), where, StringComparison.Ordinal);
            Assert.Equal(5, state.Count);
            output.WriteLine($"failover: first successful call {clock.Elapsed.TotalSeconds:F1}s after SIGKILL-equivalent " +
                $"(probe {defaults.ProbeSeconds}s x {defaults.MissedProbesLimit}, response timeout {defaults.ResponseSeconds}s)");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
