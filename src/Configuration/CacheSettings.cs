using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

/// <summary>Defaults for caches that were not given options of their own in the silo (AddNoOrgCache).</summary>
[SettingsArea("NOORG_CACHE", "Cache")]
public sealed class CacheSettings
{
    [Setting("MAX_ENTRIES", "entries a cache holds at most (split evenly over its partitions); the least recently used go first")]
    [Range(1, 10_000_000)]
    public int MaxEntries { get; set; } = 10_000;

    [Setting("PARTITIONS", "grains a cache is spread over (by key hash); more partitions spread load, fewer keep LRU closer to global")]
    [Range(1, 1024)]
    public int Partitions { get; set; } = 8;

    [Setting("DEFAULT_TTL_SECONDS", "how long an entry lives unless it is stored with its own time to live")]
    [Range(1, 31_536_000)]
    public int DefaultTtlSeconds { get; set; } = 300;

    [Setting("LOAD_TIMEOUT_SECONDS", "how long a load may take before waiting callers are released with an error (keep below NOORG_TIMEOUTS_RESPONSE_SECONDS)")]
    [Range(1, 600)]
    public int LoadTimeoutSeconds { get; set; } = 10;
}
