using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace NoOrg.Storage;

/// <summary>Opens NoOrg's database with the driver the Orleans providers use for the same dialect.</summary>
public static class StorageConnections
{
    /// <summary>A new, closed connection.</summary>
    public static DbConnection Create(StorageDialect dialect, string connectionString) => dialect switch
    {
        StorageDialect.Sqlite => new SqliteConnection(connectionString),
        StorageDialect.Postgres => new NpgsqlConnection(connectionString),
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown storage dialect."),
    };

    /// <summary>A new, open connection; disposed again if opening fails.</summary>
    public static async Task<DbConnection> OpenAsync(StorageDialect dialect, string connectionString, CancellationToken cancellationToken)
    {
        var connection = Create(dialect, connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Names the database for messages, without credentials.</summary>
    internal static string Describe(StorageDialect dialect, string connectionString)
    {
        try
        {
            if (dialect == StorageDialect.Sqlite)
            {
                var path = SqliteFilePath(connectionString);
                return path is null ? "in-memory SQLite database" : $"SQLite database {path}";
            }

            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            var database = builder.Database ?? builder.Username ?? "(default)";
            return $"PostgreSQL database \"{database}\" on {builder.Host}:{builder.Port}";
        }
        catch (ArgumentException)
        {
            return $"{dialect} database (the connection string cannot be parsed)";
        }
    }

    /// <summary>The absolute path of a file-backed SQLite database; null for in-memory or URI data sources.</summary>
    internal static string? SqliteFilePath(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        if (string.IsNullOrWhiteSpace(source)
            || builder.Mode == SqliteOpenMode.Memory
            || source.Equals(":memory:", StringComparison.OrdinalIgnoreCase)
            || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Path.GetFullPath(source);
    }
}
