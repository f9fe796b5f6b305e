using NoOrg.Configuration;
using NoOrg.Grains.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Cluster;

/// <summary>
/// What every storage provider must guarantee to a two-silo cluster: state outlives activations and whole
/// clusters, reminders outlive clusters. Run against SQLite and PostgreSQL by the two classes below.
/// </summary>
public abstract class DurabilityTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task State_survives_grain_deactivation()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var counter = fixture.Client.GetGrain<IDurableCounterGrain>(Guid.NewGuid().ToString());
        await counter.AddAsync(3, "first");
        await counter.AddAsync(4, "second");

        await fixture.Cluster.DeactivateAsync(counter);

        var state = await counter.GetAsync();
        Assert.Equal(7, state.Count);
        Assert.Equal("second", state.Note);
    }

    [SkippableFact]
    public async Task Silo_starts_are_recorded_in_the_cluster_history()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var history = await Eventually.ReturnsAsync(
            () => fixture.Client.GetGrain<IClusterHistoryGrain>(IClusterHistoryGrain.Key).GetAsync(),
            h => h.SiloStarts >= 2, TimeSpan.FromSeconds(30), "both silos to record their start");

        Assert.NotNull(history.FirstStartedAt);
        Assert.Equal(history.SiloStarts, history.RecentStarts.Count);
    }

    [SkippableFact]
    public async Task State_and_reminders_survive_a_full_cluster_restart()
    {
        var created = await ClusterDatabases.CreateAsync(fixture.Provider);
        Skip.If(created is null, ClusterDatabases.SkipReason(fixture.Provider));
        var (database, provider, connectionString) = created.Value;
        await using var _ = database;
        var properties = NoOrgTestCluster.SettingsFor(provider, connectionString);
        var key = Guid.NewGuid().ToString();

        int ticksBeforeRestart;
        var first = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            var counter = first.Client.GetGrain<IDurableCounterGrain>(key);
            await counter.AddAsync(42, "before restart");
            await counter.StartTickingAsync(TimeSpan.FromSeconds(1));
            ticksBeforeRestart = (await Eventually.ReturnsAsync(counter.GetAsync, s => s.Ticks >= 1, TimeSpan.FromSeconds(30), "a first reminder tick")).Ticks;
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var second = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            var counter = second.Client.GetGrain<IDurableCounterGrain>(key);
            var restored = await counter.GetAsync();
            Assert.Equal(42, restored.Count);
            Assert.Equal("before restart", restored.Note);

            // Nobody registers the reminder again: only the stored reminder can make the count grow.
            await Eventually.ReturnsAsync(counter.GetAsync, s => s.Ticks > restored.Ticks, TimeSpan.FromSeconds(60),
                "the stored reminder to fire in the new cluster");
            Assert.True(restored.Ticks >= ticksBeforeRestart);
            await counter.StopTickingAsync();
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteDurabilityTests(SqliteClusterFixture fixture) : DurabilityTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresDurabilityTests(PostgresClusterFixture fixture) : DurabilityTests(fixture);
