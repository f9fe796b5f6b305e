using NoOrg.Configuration;
using NoOrg.Testing;

namespace NoOrg.Tests.Infrastructure;

/// <summary>
/// One two-silo cluster per test collection, on a database of its own. Tests of a collection share it, so they
/// use fresh grain keys and never stop the shared silos (a test that needs a restart starts its own cluster).
/// </summary>
public abstract class ClusterFixture(StorageProvider provider) : NoOrgClusterFixture(provider), IAsyncLifetime;

public sealed class SqliteClusterFixture() : ClusterFixture(StorageProvider.Sqlite);

public sealed class PostgresClusterFixture() : ClusterFixture(StorageProvider.Postgres);

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
