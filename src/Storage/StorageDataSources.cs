using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace NoOrg.Storage;

/// <summary>
/// The one pool of connections a silo keeps per database, shared by the Orleans providers (grain state, reminders,
/// membership) and NoOrg's own queries, so both get the same connection settings.
/// </summary>
public static class StorageDataSources
{
    /// <summary>Statements prepared per PostgreSQL connection when the connection string does not say.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    public static DbDataSource Create(StorageDialect dialect, string connectionString) => dialect switch
    {
        StorageDialect.Sqlite => new WaitingSqliteDataSource(connectionString),
        StorageDialect.Postgres => CreatePostgres(connectionString),
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown storage dialect."),
    };

    private static NpgsqlDataSource CreatePostgres(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // The same few statements run for every grain write and index query: prepared once per connection, the
        // server skips parsing and planning them. A "Max Auto Prepare" in the connection string wins (0 turns it off).
        if (!new NpgsqlConnectionStringBuilder(connectionString).ContainsKey("Max Auto Prepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        return builder.Build();
    }

    private sealed class WaitingSqliteDataSource(string connectionString) : DbDataSource
    {
        public override string ConnectionString => connectionString;

        protected override DbConnection CreateDbConnection() => new WaitingSqliteConnection(connectionString);
    }

    /// <summary>
    /// Lets SQLite itself wait for the write lock (<c>PRAGMA busy_timeout</c>, polling every few milliseconds).
    /// Without it SQLite answers "busy" at once and Microsoft.Data.Sqlite retries after a fixed 150 ms sleep, so
    /// every collision of two writers cost 150 ms (measured with two connections: 151 ms against 25 ms).
    /// </summary>
    private sealed class WaitingSqliteConnection(string connectionString) : SqliteConnection(connectionString)
    {
        public override void Open()
        {
            base.Open();
            using var command = CreateCommand();
            command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {DefaultTimeout * 1000}");
            command.ExecuteNonQuery();
        }
    }
}
