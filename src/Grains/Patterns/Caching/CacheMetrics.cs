using System.Diagnostics.Metrics;

namespace NoOrg.Grains.Patterns.Caching;

/// <summary>Lookups of the cache partitions. Tag: <c>cache</c> (the cache's name; never a key).</summary>
internal static class CacheMetrics
{
    public const string MeterName = "NoOrg.Caching";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("noorg.cache.hits", "{lookup}", "Cache lookups that found a live entry");
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("noorg.cache.misses", "{lookup}",
        "Cache lookups that found no entry, or an expired one");

    public static void Lookup(string cache, bool hit) => (hit ? Hits : Misses).Add(1, new KeyValuePair<string, object?>("cache", cache));
}
