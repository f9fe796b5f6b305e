namespace NoOrg.Cli.Bench;

/// <summary>Everything one run of <c>noorg bench</c> measured, as written to the JSON report.</summary>
internal sealed record BenchReport(
    string Version,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    BenchConfiguration Configuration,
    MachineInfo Machine,
    IReadOnlyList<OperationResult> Operations,
    IReadOnlyList<RatioRow> Ratios,
    IReadOnlyList<WriteCost> Writes,
    ScaleResult? Scale);

internal sealed record BenchConfiguration(
    IReadOnlyList<int> Levels, double WarmupSeconds, double DurationSeconds, long Count, int Scale, int QuerySamples,
    IReadOnlyList<string> Operations, int ProfileSamples, int Unplaceable = 0, bool Timeouts = false);

/// <summary>
/// The machine the bench ran on and the cluster it measured. Load averages at the start and end say how busy the
/// machine was (the figures of a shared machine are noisy; the ratios to the floors less so).
/// </summary>
internal sealed record MachineInfo(
    int Cores,
    long MemoryBytes,
    string Os,
    string Runtime,
    string OrleansVersion,
    string StorageProvider,
    string Database,
    int Silos,
    string? LoadAverageAtStart,
    string? LoadAverageAtEnd);

internal sealed record OperationResult(string Name, string Measures, bool IsFloor, IReadOnlyList<LevelResult> Levels);

internal sealed record LevelResult(
    int Concurrency, long Count, long Errors, string? FirstError, double Seconds, double Throughput, LatencySummary Latency);

/// <summary>
/// An operation against the floors at the same concurrency: throughput as a fraction of the floor's throughput, and
/// p99 as a multiple of the floor's p99. <see cref="ThroughputVsCreation"/>: an HTTP variant's throughput as a
/// fraction of the grain-call operation it wraps (<c>http-creation</c> against <c>creation</c>);
/// <see cref="ThroughputVsLifecycle"/>: the HTTP worker's lifecycle against the SDK worker's (<c>http-lifecycle</c>
/// against <c>lifecycle</c>).
/// </summary>
internal sealed record RatioRow(
    string Operation, int Concurrency, double? ThroughputVsInsert, double? P99VsInsert, double? ThroughputVsPing, double? P99VsPing,
    double? ThroughputVsCreation = null, double? ThroughputVsLifecycle = null)
{
    public static IReadOnlyList<RatioRow> From(IReadOnlyList<OperationResult> operations)
    {
        var insert = operations.FirstOrDefault(o => o.Name == "insert");
        var ping = operations.FirstOrDefault(o => o.Name == "ping");
        var creation = operations.FirstOrDefault(o => o.Name == "creation");
        var lifecycle = operations.FirstOrDefault(o => o.Name == "lifecycle");
        return [.. operations.Where(o => !o.IsFloor).SelectMany(o => o.Levels.Select(level =>
        {
            var i = insert?.Levels.FirstOrDefault(l => l.Concurrency == level.Concurrency);
            var p = ping?.Levels.FirstOrDefault(l => l.Concurrency == level.Concurrency);
            var c = o.Name == "http-creation" ? creation?.Levels.FirstOrDefault(l => l.Concurrency == level.Concurrency) : null;
            var w = o.Name == "http-lifecycle" ? lifecycle?.Levels.FirstOrDefault(l => l.Concurrency == level.Concurrency) : null;
            return new RatioRow(o.Name, level.Concurrency,
                Ratio(level.Throughput, i?.Throughput), Ratio(level.Latency.P99Ms, i?.Latency.P99Ms),
                Ratio(level.Throughput, p?.Throughput), Ratio(level.Latency.P99Ms, p?.Latency.P99Ms),
                Ratio(level.Throughput, c?.Throughput), Ratio(level.Throughput, w?.Throughput));
        }))];
    }

    internal static double? Ratio(double value, double? floor) =>
        floor is > 0 && value > 0 ? Math.Round(value / floor.Value, 4) : null;
}

/// <summary>Silo memory before and after N agents and N tasks, and the latency of listing and statistics at that size.</summary>
internal sealed record ScaleResult(
    int N,
    double AgentsSeconds,
    double TasksSeconds,
    long Errors,
    IReadOnlyList<SiloMemoryReading> MemoryBefore,
    IReadOnlyList<SiloMemoryReading> MemoryAfter,
    IReadOnlyList<QueryResult> Queries);

/// <summary>
/// One silo's memory. Resident and managed heap (after a full collection) come from the silo that answered the
/// bench's ping grain, the gateway it talks to; activations and Orleans' own memory figure from the management grain,
/// for every silo.
/// </summary>
internal sealed record SiloMemoryReading(
    string Silo, long? ResidentBytes, long? ManagedHeapBytes, long? GcCommittedBytes, int Activations, long OrleansMemoryUsageBytes);

internal sealed record QueryResult(string Name, string Call, LatencySummary Latency);
