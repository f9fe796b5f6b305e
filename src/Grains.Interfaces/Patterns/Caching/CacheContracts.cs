namespace NoOrg.Grains.Patterns.Caching;

/// <summary>A lookup: <see cref="Found"/> false is a miss.</summary>
[GenerateSerializer, Immutable, Alias("noorg.cache.lookup")]
public sealed record CacheLookup(bool Found, string? Value);

/// <summary>
/// The answer to <see cref="ICacheGrain.BeginLoadAsync"/>: the value, or a <see cref="LoadToken"/> that makes the
/// caller the one loader of the key (the others wait for its result).
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.cache.load-ticket")]
public sealed record CacheLoadTicket(bool Found, string? Value, Guid? LoadToken);

/// <summary>Counters of one cache, summed over its partitions since they were activated.</summary>
[GenerateSerializer, Immutable, Alias("noorg.cache.stats")]
public sealed record CacheStats(
    string Cache,
    int Partitions,
    long Size,
    long Capacity,
    long Hits,
    long Misses,
    long Loads,
    long LoadFailures,
    long Evictions,
    long Expirations,
    long Invalidations)
{
    /// <summary>Hits over lookups (0 when there were none).</summary>
    public double HitRate => Hits + Misses == 0 ? 0 : (double)Hits / (Hits + Misses);
}
