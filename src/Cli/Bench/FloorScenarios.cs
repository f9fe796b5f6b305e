using System.Diagnostics;
using NoOrg.Configuration;
using NoOrg.Grains.Cluster;
using NoOrg.Storage;

namespace NoOrg.Cli.Bench;

/// <summary>The messaging floor: a call to a grain that does nothing, through the same client and gateway.</summary>
internal sealed class PingFloor(BenchRun run) : BenchScenario
{
    public override string Name => "ping";

    public override string Measures => "a no-op call to a stateless worker grain, through the gateway, until it returns";

    public override bool IsFloor => true;

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<IPingGrain>(0).PingAsync();
        return Stopwatch.GetElapsedTime(started);
    }
}

/// <summary>
/// The storage floor: one single-row INSERT, committed, to the database the cluster stores its grains in, through the
/// same driver (Npgsql, or Microsoft.Data.Sqlite for the embedded default), on a pooled connection. No durable
/// operation can be faster than the commit it needs.
/// </summary>
internal sealed class InsertFloor(BenchRun run) : BenchScenario
{
    private const string Table = "noorg_bench_floor";
    private static readonly string Payload = new('x', 200);

    private StorageDialect Dialect => run.Settings.Storage.Provider.ToDialect();

    private string ConnectionString => run.Settings.Storage.EffectiveConnectionString;

    public override string Name => "insert";

    public override string Measures => $"open a pooled connection, INSERT one row into {Table} (autocommit), until the commit returns";

    public override bool IsFloor => true;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {Table} (id VARCHAR(64) PRIMARY KEY, payload TEXT NOT NULL)", null, cancellationToken);
    }

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await ExecuteAsync($"INSERT INTO {Table} (id, payload) VALUES (@id, @payload)", Guid.NewGuid().ToString("N"), cancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    public override Task CleanUpAsync(CancellationToken cancellationToken) => ExecuteAsync($"DELETE FROM {Table}", null, cancellationToken);

    public override Task StopAsync(CancellationToken cancellationToken) => ExecuteAsync($"DROP TABLE IF EXISTS {Table}", null, cancellationToken);

    /// <summary>The server's product and version, for the report.</summary>
    public async Task<string> ServerVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await StorageConnections.OpenAsync(Dialect, ConnectionString, cancellationToken);
        return $"{(Dialect == StorageDialect.Postgres ? "PostgreSQL" : "SQLite")} {connection.ServerVersion}";
    }

    private async Task ExecuteAsync(string sql, string? id, CancellationToken cancellationToken)
    {
        await using var connection = await StorageConnections.OpenAsync(Dialect, ConnectionString, cancellationToken);
        await using var command = connection.CreateCommand(null, sql);
        if (id is not null)
        {
            command.AddParameter("@id", id);
            command.AddParameter("@payload", Payload);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
