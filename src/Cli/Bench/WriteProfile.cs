using NoOrg.Configuration;
using NoOrg.Storage;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Storage work per operation, from PostgreSQL's own counters for the cluster's database: one caller runs N samples of
/// an operation, and the rows written (inserted, updated, deleted) and transactions committed in between are divided
/// by N. PostgreSQL publishes a backend's counters when it goes idle, at most about ten seconds late, so each reading
/// waits that long first. Background work of the cluster in the same window (dispatcher sweeps, liveness) is included.
/// The same readings break the rows down by table, and the grain-state writes by state name (from the version every
/// state row counts its writes in), so the write that should not be there can be named.
/// </summary>
internal static class WriteProfile
{
    private static readonly TimeSpan StatisticsDelay = TimeSpan.FromSeconds(11);

    public static bool Supported(NoOrgSettings settings) => settings.Storage.Provider == StorageProvider.Postgres;

    public static async Task<WriteCost> MeasureAsync(BenchRun run, BenchScenario scenario, int samples, CancellationToken cancellationToken)
    {
        await Task.Delay(StatisticsDelay, cancellationToken);
        var before = await ReadAsync(run.Settings, cancellationToken);
        for (var i = 0; i < samples; i++)
        {
            await scenario.RunOnceAsync(cancellationToken);
        }

        await scenario.SettleAsync(cancellationToken);
        await Task.Delay(StatisticsDelay, cancellationToken);
        var after = await ReadAsync(run.Settings, cancellationToken);
        return new WriteCost(
            scenario.Name, samples, PerSample(after.Rows - before.Rows, samples), PerSample(after.Commits - before.Commits, samples),
            [.. Breakdown(before.Sources, after.Sources, samples)]);
    }

    private static double PerSample(long total, int samples) => Math.Round((double)total / samples, 2);

    private static IEnumerable<WriteShare> Breakdown(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after, int samples) =>
        after.Select(p => (p.Key, Delta: p.Value - before.GetValueOrDefault(p.Key)))
            .Where(p => p.Delta > 0)
            .OrderByDescending(p => p.Delta).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new WriteShare(p.Key, PerSample(p.Delta, samples)));

    private static async Task<(long Rows, long Commits, Dictionary<string, long> Sources)> ReadAsync(NoOrgSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await StorageConnections.OpenAsync(StorageDialect.Postgres, settings.Storage.EffectiveConnectionString, cancellationToken);
        await using var command = connection.CreateCommand(null, """
            SELECT 'database', tup_inserted + tup_updated + tup_deleted, xact_commit FROM pg_stat_database WHERE datname = current_database()
            UNION ALL
            SELECT 'table ' || relname, n_tup_ins + n_tup_upd + n_tup_del, 0 FROM pg_stat_user_tables
            UNION ALL
            SELECT 'state ' || state_name, sum(version)::bigint, 0 FROM orleans_grain_state GROUP BY state_name
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long rows = 0, commits = 0;
        var sources = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var source = reader.GetString(0);
            if (source == "database")
            {
                (rows, commits) = (reader.GetInt64(1), reader.GetInt64(2));
            }
            else
            {
                sources[source] = reader.GetInt64(1);
            }
        }

        return (rows, commits, sources);
    }
}

/// <summary>
/// Rows written and transactions committed per sample of an operation (PostgreSQL only), with the rows per table
/// ("table NAME") and the grain-state writes per state name ("state NAME") behind them.
/// </summary>
internal sealed record WriteCost(string Operation, int Samples, double RowsWrittenPerSample, double CommitsPerSample, IReadOnlyList<WriteShare> Breakdown);

/// <summary>One source of an operation's writes and how many it made per sample.</summary>
internal sealed record WriteShare(string Source, double PerSample);
