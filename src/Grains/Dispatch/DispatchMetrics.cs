using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// The depth of each dispatch pool's queue, reported by the pool's one activation in the cluster (so summing over
/// silos counts each pool once). Tag: <c>pool</c>, the pool's required capability list.
/// </summary>
internal static class DispatchMetrics
{
    public const string MeterName = "NoOrg.Dispatch";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<object, (string Pool, Func<int> Depth)> Pools = new();

    private static readonly ObservableGauge<int> QueueDepth = Meter.CreateObservableGauge("noorg.dispatch.queue.depth", Observe, "{task}",
        "Ready tasks a pool's dispatcher holds in memory (queued or being placed, at most 5000 queued; the rest wait in the index)");

    /// <summary>The instrument; it exists from the first pool's activation on (the class's first use).</summary>
    internal static Instrument Instrument => QueueDepth;

    public static void Track(object activation, string pool, Func<int> depth) => Pools[activation] = (pool, depth);

    public static void Untrack(object activation) => Pools.TryRemove(activation, out _);

    private static IEnumerable<Measurement<int>> Observe()
    {
        foreach (var (_, (pool, depth)) in Pools)
        {
            yield return new Measurement<int>(depth(), new KeyValuePair<string, object?>("pool", pool));
        }
    }
}
