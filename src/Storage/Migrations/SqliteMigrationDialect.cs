using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace NoOrg.Storage.Migrations;

internal sealed class SqliteMigrationDialect : MigrationDialect
{
    public static readonly SqliteMigrationDialect Instance = new();

    public override string CreateHistoryTableSql => """
        CREATE TABLE IF NOT EXISTS noorg_schema_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT    NOT NULL,
            checksum   TEXT    NOT NULL,
            applied_at TEXT    NOT NULL
        )
        """;

    public override string TableExistsSql => """
        SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = @name COLLATE NOCASE)
        """;

    public override bool DatabaseExists(string connectionString)
    {
        var path = StorageConnections.SqliteFilePath(connectionString);
        return path is null || File.Exists(path);
    }

    // Unpooled: the long busy timeout set for migrating must not stay on a connection the providers reuse.
    public override string MigrationConnectionString(string connectionString) =>
        new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString();

    public override void EnsureLocation(string connectionString)
    {
        var directory = Path.GetDirectoryName(StorageConnections.SqliteFilePath(connectionString));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    public override async Task PrepareForMigrationAsync(DbConnection connection, string database, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();

        // Other migrators hold the write lock for as long as a migration takes: wait for them, do not fail.
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {CommandTimeoutSeconds * 1000}");
        await command.ExecuteNonQueryAsync(cancellationToken);

        // WAL lets readers run while the silo writes; the mode is stored in the file, so once is enough.
        command.CommandText = "PRAGMA journal_mode = WAL";
        var mode = Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            logger.SqliteNotInWalMode(database, mode ?? "unknown");
        }
    }

    public override async Task<DbTransaction> BeginLockedTransactionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);

        // Serializable makes Microsoft.Data.Sqlite issue BEGIN IMMEDIATE: the write lock is taken up front,
        // so a second migrator waits here instead of failing later on a lock upgrade.
        return await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
    }
}
