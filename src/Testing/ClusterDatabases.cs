using NoOrg.Configuration;
using NoOrg.Storage;

namespace NoOrg.Testing;

/// <summary>A fresh, empty database of the given kind for one cluster, or null where that kind is unavailable.</summary>
public static class ClusterDatabases
{
    public static async Task<(IAsyncDisposable Database, StorageProvider Provider, string ConnectionString)?> CreateAsync(StorageProvider provider)
    {
        if (provider == StorageProvider.Postgres && !TestDatabases.PostgresAvailable)
        {
            return null;
        }

        var database = await TestDatabases.CreateAsync(provider.ToDialect());
        return (database, provider, database.ConnectionString);
    }

    public static string SkipReason(StorageProvider provider) =>
        provider == StorageProvider.Postgres ? TestDatabases.PostgresSkipReason : "SQLite database could not be created";
}
