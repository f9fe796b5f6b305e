using System.Data.Common;
using Microsoft.Extensions.Logging;

namespace NoOrg.Storage.Migrations;

/// <summary>What migrating and checking differ in between the two databases.</summary>
internal abstract class MigrationDialect
{
    /// <summary>Long enough for a migration that rebuilds a big table; a waiting migrator waits this long too.</summary>
    public const int CommandTimeoutSeconds = 600;

    public static MigrationDialect For(StorageDialect dialect) => dialect switch
    {
        StorageDialect.Sqlite => SqliteMigrationDialect.Instance,
        StorageDialect.Postgres => PostgresMigrationDialect.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown storage dialect."),
    };

    /// <summary>Creates noorg_schema_migrations if it does not exist.</summary>
    public abstract string CreateHistoryTableSql { get; }

    /// <summary>One boolean: does the table named by @name (lower case) exist where unqualified names resolve?</summary>
    public abstract string TableExistsSql { get; }

    /// <summary>Whether there is a database to look at, without creating one as a side effect.</summary>
    public virtual bool DatabaseExists(string connectionString) => true;

    /// <summary>The connection string the migrator opens its own connection with.</summary>
    public virtual string MigrationConnectionString(string connectionString) => connectionString;

    /// <summary>Makes sure a new database can be created (the SQLite file's directory).</summary>
    public virtual void EnsureLocation(string connectionString)
    {
    }

    /// <summary>Readies an open connection for migrating.</summary>
    public virtual Task PrepareForMigrationAsync(DbConnection connection, string database, ILogger logger, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>
    /// Begins a transaction that holds the database-wide migration lock until it ends, so that concurrent
    /// migrators run one after the other.
    /// </summary>
    public abstract Task<DbTransaction> BeginLockedTransactionAsync(DbConnection connection, CancellationToken cancellationToken);
}
