using System.Data;
using System.Data.Common;

namespace NoOrg.Storage.Migrations;

internal sealed class PostgresMigrationDialect : MigrationDialect
{
    public static readonly PostgresMigrationDialect Instance = new();

    // Any fixed key works as long as every NoOrg migrator uses the same one: the bytes spell "NoOrgMg".
    private const long AdvisoryLockKey = 0x4E6F4F72674D67;

    public override string CreateHistoryTableSql => """
        CREATE TABLE IF NOT EXISTS noorg_schema_migrations (
            version    integer     NOT NULL PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL
        )
        """;

    public override string TableExistsSql => """
        SELECT EXISTS (
            SELECT 1 FROM information_schema.tables
             WHERE table_name = @name AND table_schema = ANY (current_schemas(false)))
        """;

    public override async Task<DbTransaction> BeginLockedTransactionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        try
        {
            // Released by COMMIT or ROLLBACK, and by the server if this process dies: nothing to clean up.
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandTimeout = CommandTimeoutSeconds;
            command.CommandText = "SELECT pg_advisory_xact_lock(@key)";
            command.AddParameter("key", AdvisoryLockKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }
}
