using System.Globalization;
using NoOrg.Configuration;
using NoOrg.Grains.Retention;
using NoOrg.Storage;
using NoOrg.Testing;
using Orleans.TestingHost;

namespace NoOrg.Tests.Retention;

/// <summary>A two-silo cluster of its own on a fresh database, with short retention, and SQL access to what it stores.</summary>
internal sealed class RetentionCluster(TestCluster cluster, StorageDialect dialect, string connectionString) : IAsyncDisposable
{
    /// <summary>About one second, in hours.</summary>
    public const string OneSecond = "0.0003";

    private IAsyncDisposable? database;

    public TestCluster Cluster { get; } = cluster;

    public IClusterClient Client => Cluster.Client;

    public StorageDialect Dialect { get; } = dialect;

    public string ConnectionString { get; } = connectionString;

    public IRetentionGrain Retention => Client.GetGrain<IRetentionGrain>(IRetentionGrain.Key);

    public static async Task<RetentionCluster> StartAsync(StorageProvider provider, IReadOnlyDictionary<string, string> settings)
    {
        var created = await ClusterDatabases.CreateAsync(provider);
        Skip.If(created is null, ClusterDatabases.SkipReason(provider));
        var (database, storage, connectionString) = created.Value;
        var properties = NoOrgTestCluster.SettingsFor(storage, connectionString);
        properties["NOORG_RETENTION_INTERVAL_SECONDS"] = "3600"; // tests run it themselves unless they ask otherwise
        properties["NOORG_RETENTION_SAGA_HOURS"] = OneSecond;
        properties["NOORG_RETENTION_RESOLVED_ISSUE_HOURS"] = OneSecond;
        properties["NOORG_RETENTION_DEAD_LETTER_HOURS"] = OneSecond;
        properties["NOORG_TASKS_RETENTION_DAYS"] = "0.00001";
        properties["NOORG_TASKS_SAMPLE_WINDOW"] = "10";
        foreach (var (key, value) in settings)
        {
            properties[key] = value;
        }

        try
        {
            var cluster = await NoOrgTestCluster.StartAsync(properties);
            return new RetentionCluster(cluster, storage.ToDialect(), connectionString) { database = database };
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    public async Task<long> CountAsync(string table, string where = "")
    {
        await using var connection = await StorageConnections.OpenAsync(Dialect, ConnectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, $"SELECT COUNT(*) FROM {table}{(where.Length == 0 ? "" : " WHERE " + where)}");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public async Task<List<string>> StringsAsync(string sql)
    {
        await using var connection = await StorageConnections.OpenAsync(Dialect, ConnectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, sql);
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(await reader.IsDBNullAsync(0) ? "" : Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }

    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await StorageConnections.OpenAsync(Dialect, ConnectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, sql);
        foreach (var (name, value) in parameters)
        {
            command.AddParameter(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A time as the given table's time column stores it.</summary>
    public object Time(DateTimeOffset time, string sqliteFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'") =>
        Dialect == StorageDialect.Postgres ? time.UtcDateTime : time.UtcDateTime.ToString(sqliteFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// Sagas stored in part: a step or compensation state without its coordinator's, or a coordinator whose steps
    /// that ran have no state. Empty when every saga is whole or gone.
    /// </summary>
    public async Task<IReadOnlyList<string>> PartialSagasAsync()
    {
        var orphans = await StringsAsync("""
            SELECT a.grain_id_string FROM orleans_grain_state AS a
             WHERE a.state_name IN ('saga-step', 'saga-compensation')
               AND NOT EXISTS (SELECT 1 FROM orleans_grain_state AS s
                                WHERE s.state_name = 'saga' AND s.grain_id_string = substr(a.grain_id_string, 1, length(s.grain_id_string))
                                  AND substr(a.grain_id_string, length(s.grain_id_string) + 1, 1) = ':')
            """);
        var missing = await StringsAsync("""
            SELECT s.id FROM noorg_sagas AS s
             WHERE NOT EXISTS (SELECT 1 FROM orleans_grain_state AS g WHERE g.state_name = 'saga' AND g.grain_id_string = s.id)
            """);
        var stepless = await StringsAsync("""
            SELECT s.id FROM noorg_sagas AS s
             WHERE s.definition NOT LIKE 'scope:%' AND s.status IN ('completed', 'compensated')
               AND NOT EXISTS (SELECT 1 FROM orleans_grain_state AS a WHERE a.state_name = 'saga-step'
                                  AND substr(a.grain_id_string, 1, length(s.id) + 1) = s.id || ':')
            """);
        return [.. orphans.Select(o => "orphan action " + o), .. missing.Select(m => "index row without state " + m), .. stepless.Select(s => "saga without steps " + s)];
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
        finally
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }
        }
    }
}
