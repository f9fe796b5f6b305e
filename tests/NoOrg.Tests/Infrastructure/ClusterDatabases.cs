using NoOrg.Configuration;

namespace NoOrg.Tests.Infrastructure;

/// <summary>A fresh, empty database of the given kind for one cluster, or null where that kind is unavailable.</summary>
public static class ClusterDatabases
{

    public static async Task<(IAsyncDisposable Database, StorageProvider Provider, string ConnectionString)?> CreateAsync(StorageProvider provider)
    {
        if (provider == StorageProvider.Sqlite)
        {
            var sqlite = TestDatabases.CreateSqlite();
            return (sqlite, provider, sqlite.ConnectionString);
        }

        if (!TestDatabases.PostgresAvailable)
        {
            return null;
        }

        var postgres = await TestDatabases.CreatePostgresAsync();
        return (postgres, provider, postgres.ConnectionString);
    }

    public static string SkipReason(StorageProvider provider) =>
        provider == StorageProvider.Postgres
            ? "NOORG_TEST_POSTGRES is not set; PostgreSQL tests skipped. Run scripts/test to start a local PostgreSQL."
            : "SQLite database could not be created";
}
