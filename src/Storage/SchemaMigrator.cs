using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NoOrg.Storage.Migrations;

namespace NoOrg.Storage;

/// <summary>
/// Brings a database to the schema this build expects: the tables and OrleansQuery rows the Orleans ADO.NET
/// providers need, from the scripts embedded under Migrations/&lt;Dialect&gt;/.
/// </summary>
/// <remarks>
/// Each migration runs in its own transaction together with its row in noorg_schema_migrations, under a
/// database-wide lock (a PostgreSQL advisory lock, SQLite's write lock), so concurrent migrators apply each
/// migration exactly once and a failed one leaves nothing behind.
/// </remarks>
public sealed class SchemaMigrator(StorageDialect dialect, string connectionString, ILogger<SchemaMigrator>? logger = null)
{
    private const string HistoryTable = "noorg_schema_migrations";

    private readonly IReadOnlyList<MigrationScript> _scripts = MigrationCatalog.For(dialect);
    private readonly MigrationDialect _db = MigrationDialect.For(dialect);
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private readonly string _database = StorageConnections.Describe(dialect, connectionString);

    /// <summary>Migrates with other scripts than the embedded ones: lets tests break a migration on purpose.</summary>
    internal SchemaMigrator(StorageDialect dialect, string connectionString, IReadOnlyList<MigrationScript> scripts)
        : this(dialect, connectionString)
    {
        _scripts = scripts;
    }

    /// <summary>Applies every pending migration; running it again applies nothing.</summary>
    /// <exception cref="StorageUnavailableException">The database cannot be opened.</exception>
    /// <exception cref="StorageMigrationException">A migration failed, or an applied one was changed since.</exception>
    public async Task<MigrationReport> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = _scripts;
        await using var connection = await OpenAsync(forMigration: true, cancellationToken);
        await _db.PrepareForMigrationAsync(connection, _database, _logger, cancellationToken);
        await EnsureHistoryTableAsync(connection, cancellationToken);

        var recorded = (await ReadHistoryAsync(connection, cancellationToken)).ToDictionary(m => m.Version);

        // A changed script means the database no longer matches the code: stop before building on top of it.
        foreach (var script in scripts)
        {
            if (recorded.TryGetValue(script.Version, out var applied))
            {
                EnsureUnchanged(script, applied);
            }
        }

        foreach (var unknown in recorded.Values.Where(m => scripts.All(s => s.Version != m.Version)))
        {
            _logger.UnknownMigrationRecorded(_database, unknown.Id);
        }

        var appliedNow = new List<AppliedMigration>();
        var alreadyApplied = new List<AppliedMigration>();
        foreach (var script in scripts)
        {
            if (recorded.TryGetValue(script.Version, out var applied))
            {
                alreadyApplied.Add(applied);
                continue;
            }

            var (migration, appliedHere) = await ApplyAsync(connection, script, cancellationToken);
            (appliedHere ? appliedNow : alreadyApplied).Add(migration);
        }

        _logger.MigrationFinished(_database, appliedNow.Count, alreadyApplied.Count);
        return new MigrationReport(dialect, appliedNow, alreadyApplied);
    }

    /// <summary>The migrations recorded in the database, oldest first; empty for a database never migrated.</summary>
    /// <exception cref="StorageUnavailableException">The database cannot be opened.</exception>
    public async Task<IReadOnlyList<AppliedMigration>> GetAppliedAsync(CancellationToken cancellationToken = default)
    {
        if (!_db.DatabaseExists(connectionString))
        {
            return [];
        }

        await using var connection = await OpenAsync(forMigration: false, cancellationToken);
        return await HistoryTableExistsAsync(connection, cancellationToken)
            ? await ReadHistoryAsync(connection, cancellationToken)
            : [];
    }

    private async Task<DbConnection> OpenAsync(bool forMigration, CancellationToken cancellationToken)
    {
        DbConnection? connection = null;
        try
        {
            if (forMigration)
            {
                _db.EnsureLocation(connectionString);
            }

            connection = StorageConnections.Create(
                dialect, forMigration ? _db.MigrationConnectionString(connectionString) : connectionString);
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is DbException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            throw new StorageUnavailableException(_database, e);
        }
    }

    private async Task EnsureHistoryTableAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog.
            await using var transaction = await _db.BeginLockedTransactionAsync(connection, cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = _db.CreateHistoryTableSql;
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbException e)
        {
            throw HistoryFailure(e);
        }
    }

    private async Task<bool> HistoryTableExistsAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = _db.TableExistsSql;
            command.AddParameter("name", HistoryTable);
            return Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        catch (DbException e)
        {
            throw HistoryFailure(e);
        }
    }

    private async Task<IReadOnlyList<AppliedMigration>> ReadHistoryAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT version, name, checksum, applied_at FROM {HistoryTable} ORDER BY version";
            return await ReadMigrationsAsync(command, cancellationToken);
        }
        catch (DbException e)
        {
            throw HistoryFailure(e);
        }
    }

    /// <summary>Applies one migration unless another migrator did while this one waited for the lock.</summary>
    private async Task<(AppliedMigration Migration, bool AppliedHere)> ApplyAsync(
        DbConnection connection, MigrationScript script, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await using var transaction = await _db.BeginLockedTransactionAsync(connection, cancellationToken);

            await using (var check = connection.CreateCommand())
            {
                check.Transaction = transaction;
                check.CommandText = $"SELECT version, name, checksum, applied_at FROM {HistoryTable} WHERE version = @version";
                check.AddParameter("version", script.Version);
                var existing = (await ReadMigrationsAsync(check, cancellationToken)).SingleOrDefault();
                if (existing is not null)
                {
                    EnsureUnchanged(script, existing);
                    await transaction.CommitAsync(cancellationToken);
                    _logger.MigrationAppliedConcurrently(script.Id, _database);
                    return (existing, false);
                }
            }

            await using (var run = connection.CreateCommand())
            {
                run.Transaction = transaction;
                run.CommandTimeout = MigrationDialect.CommandTimeoutSeconds;
                run.CommandText = script.Sql;
                await run.ExecuteNonQueryAsync(cancellationToken);
            }

            var migration = new AppliedMigration(script.Version, script.Name, script.Checksum, DateTimeOffset.UtcNow);
            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = $"INSERT INTO {HistoryTable} (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @appliedAt)";
                record.AddParameter("version", migration.Version);
                record.AddParameter("name", migration.Name);
                record.AddParameter("checksum", migration.Checksum);
                record.AddParameter("appliedAt", migration.AppliedAt);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            _logger.MigrationApplied(script.Id, _database, stopwatch.ElapsedMilliseconds);
            return (migration, true);
        }
        catch (DbException e)
        {
            throw new StorageMigrationException(
                StorageMigrationException.FailedCode,
                script.Id,
                $"Migration {script.Id} failed on the {_database} and was rolled back: {StorageException.AsSentence(e.Message)} "
                + "Fix the cause and migrate again; migrations applied before it are kept.",
                e);
        }
    }

    private void EnsureUnchanged(MigrationScript script, AppliedMigration applied)
    {
        if (applied.Checksum == script.Checksum && applied.Name == script.Name)
        {
            return;
        }

        throw new StorageMigrationException(
            StorageMigrationException.ChecksumMismatchCode,
            script.Id,
            $"Migration {script.Id} no longer matches what was applied to the {_database} as {applied.Id} "
            + $"on {applied.AppliedAt:u} (checksum {Short(applied.Checksum)} recorded, {Short(script.Checksum)} in this build). "
            + "An applied migration must never change: restore its original script and put the change in a new migration.");
    }

    private static async Task<IReadOnlyList<AppliedMigration>> ReadMigrationsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var migrations = new List<AppliedMigration>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            migrations.Add(new AppliedMigration(
                Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture),
                reader.GetString(1),
                reader.GetString(2),
                await reader.GetFieldValueAsync<DateTimeOffset>(3, cancellationToken)));
        }

        return migrations;
    }

    private StorageMigrationException HistoryFailure(DbException e) => new(
        StorageMigrationException.FailedCode,
        HistoryTable,
        $"Cannot create or read the migration history ({HistoryTable}) in the {_database}: {StorageException.AsSentence(e.Message)} "
        + "Check that the connection's user may create tables there.",
        e);

    private static string Short(string checksum) => checksum.Length > 12 ? checksum[..12] : checksum;
}
