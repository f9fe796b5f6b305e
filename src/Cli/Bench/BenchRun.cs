using NoOrg.Configuration;

namespace NoOrg.Cli.Bench;

/// <summary>
/// What the scenarios share: the caller's client (creates, registers, changes), a second client in the role of
/// another application (follows streams, hosts the bench's workers), and names unique to this run so that nothing
/// left by an earlier run takes part.
/// </summary>
internal sealed class BenchRun(IClusterClient caller, IClusterClient other, NoOrgSettings settings, BenchPlan plan)
{
    public IClusterClient Caller { get; } = caller;

    public IClusterClient Other { get; } = other;

    public NoOrgSettings Settings { get; } = settings;

    public BenchPlan Plan { get; } = plan;

    public string Id { get; } = DateTimeOffset.UtcNow.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];

    public const string Actor = "bench";

    /// <summary>A capability no agent of this run has: tasks that need it stay pending.</summary>
    public string Nobody => $"bench-none-{Id}";

    public string Name(string what) => $"bench-{Id}-{what}";

    /// <summary>Runs <paramref name="action"/> over <paramref name="items"/> with 64 callers, ignoring failures (clean-up only).</summary>
    public static Task ForEachQuietlyAsync<T>(IEnumerable<T> items, Func<T, Task> action, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (item, _) =>
        {
            try
            {
                await action(item);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Clean-up is best effort: the run's unique names keep leftovers out of later measurements.
            }
        });
}
