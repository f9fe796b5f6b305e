using NoOrg.Configuration;
using Orleans.TestingHost;

namespace NoOrg.Tests.Infrastructure;

/// <summary>
/// One two-silo cluster per test collection, on a database of its own. Tests of a collection share it, so they
/// use fresh grain keys and never stop the shared silos (a test that needs a restart starts its own cluster).
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private IAsyncDisposable? database;

    public TestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public IReadOnlyDictionary<string, string> Properties { get; private set; } = new Dictionary<string, string>();

    public abstract StorageProvider Provider { get; }

    public async Task InitializeAsync()
    {
        var created = await ClusterDatabases.CreateAsync(Provider);
        if (created is not { } db)
        {
            return;
        }

        database = db.Database;
        Properties = NoOrgTestCluster.SettingsFor(db.Provider, db.ConnectionString);
        Cluster = await NoOrgTestCluster.StartAsync(Properties);
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
    }
}

public sealed class SqliteClusterFixture : ClusterFixture
{
    public override StorageProvider Provider => StorageProvider.Sqlite;
}

public sealed class PostgresClusterFixture : ClusterFixture
{
    public override StorageProvider Provider => StorageProvider.Postgres;
}

[CollectionDefinition(Name)]
public sealed class SqliteCluster : ICollectionFixture<SqliteClusterFixture>
{
    public const string Name = "sqlite cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresCluster : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres cluster";
}
