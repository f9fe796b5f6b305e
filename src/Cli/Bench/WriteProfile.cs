using NoOrg.Configuration;
using NoOrg.Storage;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Storage work per operation, from PostgreSQL's own counters for the cluster's database: one caller runs N samples of
/// an operation, and the rows written (inserted, updated, deleted) and transactions committed in between are divided
/// by N. PostgreSQL publishes a backend's counters when it goes idle, at most about ten seconds late, so each reading
/// waits that long first. Background work of the cluster in the same window (dispatcher sweeps, liveness) is included.
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
            scenario.Name, samples,
            Math.Round((double)(after.Rows - before.Rows) / samples, 2),
            Math.Round((double)(after.Commits - before.Commits) / samples, 2));
    }

    private static async Task<(long Rows, long Commits)> ReadAsync(NoOrgSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = await StorageConnections.OpenAsync(StorageDialect.Postgres, settings.Storage.EffectiveConnectionString, cancellationToken);
        await using var command = connection.CreateCommand(null, """
            SELECT tup_inserted + tup_updated + tup_deleted, xact_commit FROM pg_stat_database WHERE datname = current_database()
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}

/// <summary>Rows written and transactions committed per sample of an operation (PostgreSQL only).</summary>
internal sealed record WriteCost(string Operation, int Samples, double RowsWrittenPerSample, double CommitsPerSample);
