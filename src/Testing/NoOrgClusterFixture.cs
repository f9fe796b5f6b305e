using NoOrg.Configuration;
using Orleans.TestingHost;

namespace NoOrg.Testing;

/// <summary>
/// An in-process NoOrg cluster for tests of your own agents, handlers and sagas: silos built exactly as the NoOrg
/// silo builds them, on a fresh database of their own (a SQLite file in a temporary directory by default, or a
/// PostgreSQL database on the server named by NOORG_TEST_POSTGRES), dropped again on disposal.
/// Its <see cref="InitializeAsync"/> and <see cref="DisposeAsync"/> match xUnit's <c>IAsyncLifetime</c>: derive and
/// add the interface to use it as a class or collection fixture. Register handlers, checks and saga definitions
/// with an <see cref="ISiloConfigurator"/> marked <see cref="TestSiloExtensionAttribute"/>.
/// </summary>
public class NoOrgClusterFixture(StorageProvider provider = StorageProvider.Sqlite, short silos = 2) : IAsyncDisposable
{
    private IAsyncDisposable? database;

    public StorageProvider Provider { get; } = provider;

    /// <summary>NOORG_* settings applied on top of the test defaults (<see cref="NoOrgTestCluster.SettingsFor"/>); set before initializing.</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    /// <summary>Null until initialized, and when PostgreSQL was asked for but NOORG_TEST_POSTGRES is not set.</summary>
    public TestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>The settings the cluster runs with: give them to a separate client or worker to reach it.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; private set; } = new Dictionary<string, string>();

    public bool IsAvailable => Cluster is not null;

    public async Task InitializeAsync()
    {
        var created = await ClusterDatabases.CreateAsync(Provider);
        if (created is not { } db)
        {
            return;
        }

        database = db.Database;
        var properties = NoOrgTestCluster.SettingsFor(db.Provider, db.ConnectionString);
        foreach (var (key, value) in Settings)
        {
            properties[key] = value;
        }

        Properties = properties;
        Cluster = await NoOrgTestCluster.StartAsync(Properties, silos);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }

        if (database is not null)
        {
            await database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
}
