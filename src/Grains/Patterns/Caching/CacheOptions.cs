namespace NoOrg.Grains.Patterns.Caching;

/// <summary>One cache's options; anything left null takes the NOORG_CACHE_* default.</summary>
public sealed class CacheOptions
{
    /// <summary>Entries held at most, split evenly over the partitions.</summary>
    public int? MaxEntries { get; set; }

    public int? Partitions { get; set; }

    public TimeSpan? DefaultTtl { get; set; }

    public TimeSpan? LoadTimeout { get; set; }

    /// <summary>The clock for time to live; null uses the silo's TimeProvider (tests pass a fake one).</summary>
    public TimeProvider? Clock { get; set; }
}

/// <summary>The options a cache runs with, defaults applied.</summary>
public sealed record CacheConfig(string Name, int MaxEntries, int Partitions, TimeSpan DefaultTtl, TimeSpan LoadTimeout, TimeProvider Clock)
{
    public int PartitionCapacity => Math.Max(1, MaxEntries / Partitions);
}
