using Microsoft.Data.Sqlite;
using NoOrg.Storage;
using Npgsql;

namespace NoOrg.Testing;

/// <summary>Throw-away databases for tests: a PostgreSQL database on the server in NOORG_TEST_POSTGRES, or a SQLite file.</summary>
public static class TestDatabases
{
    /// <summary>Holds an admin connection string, e.g. <c>Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres</c>.</summary>
    public const string PostgresVariable = "NOORG_TEST_POSTGRES";

    public const string PostgresSkipReason =
        PostgresVariable + " is not set; PostgreSQL tests skipped. Run scripts/test to start a local PostgreSQL.";

    public static string? PostgresAdminConnectionString { get; } =
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value ? value : null;

    public static bool PostgresAvailable => PostgresAdminConnectionString is not null;

    public static async Task<TestDatabase> CreateAsync(StorageDialect dialect, CancellationToken cancellationToken = default) =>
        dialect == StorageDialect.Postgres ? await CreatePostgresAsync(cancellationToken) : CreateSqlite();

    /// <summary>A new, empty database with a unique name; disposing it drops it, closing whatever still uses it.</summary>
    public static async Task<TestDatabase> CreatePostgresAsync(CancellationToken cancellationToken = default)
    {
        var admin = PostgresAdminConnectionString ?? throw new InvalidOperationException(PostgresSkipReason);
        var name = $"noorg_test_{Guid.NewGuid():N}";
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"", cancellationToken);

        // A small pool per test database: many clusters run side by side against one server.
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 20 }.ConnectionString;
        return new TestDatabase(StorageDialect.Postgres, connectionString, name, async () =>
        {
            await using (var pooled = new NpgsqlConnection(connectionString))
            {
                NpgsqlConnection.ClearPool(pooled);
            }

            await DropAsync(admin, name);
        });
    }

    /// <summary>
    /// A SQLite file in a directory that does not exist yet (creating it is part of migrating); disposing it
    /// deletes the directory.
    /// </summary>
    public static TestDatabase CreateSqlite()
    {
        var root = Path.Combine(Path.GetTempPath(), "noorg-tests", Guid.NewGuid().ToString("N"));
        var file = Path.Combine(root, "data", "noorg.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = file }.ToString();
        return new TestDatabase(StorageDialect.Sqlite, connectionString, file, () =>
        {
            using (var pooled = new SqliteConnection(connectionString))
            {
                SqliteConnection.ClearPool(pooled);
            }

            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// FORCE cannot end a backend of another role, such as an autovacuum worker that a busy test started on the
    /// database; such a worker finishes soon, so the drop is tried again for a while.
    /// </summary>
    private static async Task DropAsync(string admin, string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", CancellationToken.None);
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse && attempt < 30)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>A database that exists for one test.</summary>
public sealed class TestDatabase(StorageDialect dialect, string connectionString, string name, Func<Task> drop) : IAsyncDisposable
{
    public StorageDialect Dialect { get; } = dialect;

    public string ConnectionString { get; } = connectionString;

    /// <summary>The PostgreSQL database name, or the SQLite file path.</summary>
    public string Name { get; } = name;

    public ValueTask DisposeAsync() => new(drop());
}
