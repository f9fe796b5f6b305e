using NoOrg.Configuration;

namespace NoOrg.Storage;

public static class StorageProviderExtensions
{
    /// <summary>The SQL dialect of the configured storage provider.</summary>
    public static StorageDialect ToDialect(this StorageProvider provider) =>
        provider == StorageProvider.Postgres ? StorageDialect.Postgres : StorageDialect.Sqlite;
}
