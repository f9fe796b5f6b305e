using System.Data;
using System.Data.Common;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Storage;

/// <summary>Plain SQL against a test database, and the stored Orleans queries run the way the providers run them.</summary>
internal static class StorageSql
{
    /// <summary>The providers each dialect serves: SQLite runs a single silo on localhost clustering.</summary>
    public static OrleansFeatures FeaturesOf(StorageDialect dialect) =>
        dialect == StorageDialect.Postgres ? OrleansFeatures.All : OrleansFeatures.Persistence | OrleansFeatures.Reminders;

    public static async Task<object?> ScalarAsync(TestDatabase db, string sql, params Param[] parameters)
    {
        await using var connection = await OpenAsync(db);
        await using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public static async Task<int> ExecuteAsync(TestDatabase db, string sql, params Param[] parameters)
    {
        await using var connection = await OpenAsync(db);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<IReadOnlySet<string>> TablesAsync(TestDatabase db)
    {
        var sql = db.Dialect == StorageDialect.Postgres
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            : "SELECT name FROM sqlite_master WHERE type = 'table'";
        return (await RowsAsync(db, sql)).Select(r => ((string)r.Values.Single()!).ToLowerInvariant()).ToHashSet();
    }

    public static async Task<IReadOnlySet<string>> QueryKeysAsync(TestDatabase db) =>
        (await RowsAsync(db, "SELECT QueryKey FROM OrleansQuery")).Select(r => (string)r.Values.Single()!).ToHashSet();

    /// <summary>Runs the OrleansQuery text stored under <paramref name="key"/> and collects every row of every result set.</summary>
    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> RunOrleansQueryAsync(
        TestDatabase db, string key, params Param[] parameters)
    {
        var text = (string?)await ScalarAsync(db, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = @key", new Param("key", key, DbType.String))
            ?? throw new InvalidOperationException($"No query {key} in OrleansQuery.");
        return await RowsAsync(db, text, parameters);
    }

    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> RowsAsync(
        TestDatabase db, string sql, params Param[] parameters)
    {
        await using var connection = await OpenAsync(db);
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        do
        {
            while (await reader.ReadAsync())
            {
                var row = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row[reader.GetName(i)] = await reader.IsDBNullAsync(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }
        }
        while (await reader.NextResultAsync());

        return rows;
    }

    private static async Task<DbConnection> OpenAsync(TestDatabase db)
    {
        var connection = StorageConnections.Create(db.Dialect, db.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static DbCommand Command(DbConnection connection, string sql, Param[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var p in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = p.Name;
            parameter.DbType = p.Type;
            parameter.Value = p.Value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}

/// <summary>A parameter typed the way the Orleans providers type theirs (they always set DbType).</summary>
internal sealed record Param(string Name, object? Value, DbType Type);
