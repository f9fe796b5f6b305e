using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;
using Orleans.Storage;
using Orleans.TestingHost;

namespace NoOrg.Tests.Storage;

/// <summary>
/// The real Orleans providers against the migrated schema in a two-silo test cluster: grain state survives
/// deactivation and a whole new cluster, stale writes are refused, reminders fire, rows hold plain JSON. On
/// PostgreSQL the silos and the client also cluster through the membership queries.
/// </summary>
public sealed class OrleansProviderContractTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public Task Orleans_providers_work_on_the_migrated_schema_on_sqlite() => ProvidersWorkAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Orleans_providers_work_on_the_migrated_schema_on_postgres() => ProvidersWorkAsync(StorageDialect.Postgres);

    private static async Task ProvidersWorkAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();
        await OrleansQueryCheck.VerifyAsync(dialect, db.ConnectionString, StorageSql.FeaturesOf(dialect));
        var serviceId = $"contract-{Guid.NewGuid():N}";

        var cluster = await StartClusterAsync(db, serviceId);
        try
        {
            Assert.Equal(2, cluster.Silos.Count);
            if (dialect == StorageDialect.Postgres)
            {
                Assert.Equal(2, await SilosWithStatusAsync(db, cluster, status: 3));
            }

            var grain = cluster.GrainFactory.GetGrain<IStorageProbeGrain>("alpha");
            await grain.SaveAsync("hello, \"world\"", 42);
            await cluster.DeactivateAsync(grain);
            Assert.Equal(("hello, \"world\"", 42), Summary(await grain.LoadAsync()));

            await AssertStoredAsPlainJsonAsync(db);
            await AssertStaleWritesAreRefusedAsync(cluster);

            await grain.StartTickingAsync(TimeSpan.FromSeconds(1));
            await EventuallyAsync(async () => (await grain.LoadAsync()).ReminderTicks >= 1, "the reminder to fire");
            await grain.StopTickingAsync();

            if (dialect == StorageDialect.Postgres)
            {
                // Suspecting and declaring a silo dead goes through the versioned membership updates.
                await cluster.KillSiloAsync(cluster.Silos[1]);
                await EventuallyAsync(async () => await SilosWithStatusAsync(db, cluster, status: 6) == 1, "the killed silo to be declared dead");
            }
        }
        finally
        {
            await StopAsync(cluster);
        }

        // A new cluster of the same service finds the state in the database.
        var restarted = await StartClusterAsync(db, serviceId);
        try
        {
            var state = await restarted.GrainFactory.GetGrain<IStorageProbeGrain>("alpha").LoadAsync();
            Assert.Equal(("hello, \"world\"", 42), Summary(state));
            Assert.True(state.ReminderTicks >= 1);
        }
        finally
        {
            await StopAsync(restarted);
        }
    }

    private static async Task<TestCluster> StartClusterAsync(TestDatabase db, string serviceId)
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ServiceId = serviceId;
        builder.Options.UseTestClusterMembership = db.Dialect != StorageDialect.Postgres;
        builder.Properties[ProviderContractSiloConfigurator.DialectKey] = db.Dialect.ToString();
        builder.Properties[ProviderContractSiloConfigurator.ConnectionStringKey] = db.ConnectionString;
        builder.AddSiloBuilderConfigurator<ProviderContractSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ProviderContractClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task StopAsync(TestCluster cluster)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }

    private static async Task<long> SilosWithStatusAsync(TestDatabase db, TestCluster cluster, int status) =>
        Convert.ToInt64(await StorageSql.ScalarAsync(db,
            "SELECT count(*) FROM orleans_membership WHERE deployment_id = @cluster AND status = @status",
            new Param("cluster", cluster.Options.ClusterId, System.Data.DbType.String),
            new Param("status", status, System.Data.DbType.Int32)));

    private static async Task AssertStoredAsPlainJsonAsync(TestDatabase db)
    {
        // An operator reads the state with SQL: the JSON is stored as such and its fields are addressable.
        var sql = db.Dialect == StorageDialect.Postgres
            ? "SELECT payload::text AS payload, payload->>'Text' AS text FROM orleans_grain_state WHERE state_name = 'probe' AND grain_id_string = 'alpha'"
            : "SELECT payload, json_extract(payload, '$.Text') AS text FROM orleans_grain_state WHERE state_name = 'probe' AND grain_id_string = 'alpha'";
        var row = Assert.Single(await StorageSql.RowsAsync(db, sql));

        Assert.Equal("hello, \"world\"", row["text"]);
        var payload = (string)row["payload"]!;
        Assert.DoesNotContain("$type", payload, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(payload);
        Assert.Equal(42, json.RootElement.GetProperty("Number").GetInt32());
    }

    private static async Task AssertStaleWritesAreRefusedAsync(TestCluster cluster)
    {
        // Two activations of one grain are hard to arrange; the provider itself, given a stale ETag, is not.
        var silo = (InProcessSiloHandle)cluster.Silos[0];
        var storage = silo.ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageProbeGrain.StorageName);
        var grainId = GrainId.Create("storageprobe", "direct");

        var current = new GrainState<ProbeState>(new ProbeState { Text = "one" });
        await storage.WriteStateAsync(StorageProbeGrain.StateName, grainId, current);
        var stale = new GrainState<ProbeState>(new ProbeState { Text = "stale" }, current.ETag);
        current.State = new ProbeState { Text = "two" };
        await storage.WriteStateAsync(StorageProbeGrain.StateName, grainId, current);

        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(StorageProbeGrain.StateName, grainId, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(StorageProbeGrain.StateName, grainId, new GrainState<ProbeState>(new ProbeState { Text = "second activation" })));
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.ClearStateAsync(StorageProbeGrain.StateName, grainId, stale));

        var read = new GrainState<ProbeState>();
        await storage.ReadStateAsync(StorageProbeGrain.StateName, grainId, read);
        Assert.Equal("two", read.State?.Text);
        Assert.Equal(current.ETag, read.ETag);
        Assert.True(read.RecordExists);

        await storage.ClearStateAsync(StorageProbeGrain.StateName, grainId, read);
        var cleared = new GrainState<ProbeState>();
        await storage.ReadStateAsync(StorageProbeGrain.StateName, grainId, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Equal(read.ETag, cleared.ETag);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Waited {Patience.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    private static (string Text, int Number) Summary(ProbeState state) => (state.Text, state.Number);
}
