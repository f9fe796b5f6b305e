using NoOrg.Grains.Patterns.Caching;

namespace NoOrg.Client.Caching;

/// <summary>One named, partitioned cache-aside cache: values are loaded by the caller, once for all callers that miss together.</summary>
public sealed class CacheClient
{
    private readonly ICacheGrain cache;

    internal CacheClient(IClusterClient client, string name) => cache = client.Cache(name);

    public Task<CacheLookup> GetAsync(string key) => cache.GetAsync(key);

    /// <summary>The cached value or, on a miss, the value of <paramref name="load"/>, kept for <paramref name="ttl"/> (null: the cache's default).</summary>
    public Task<string> GetOrLoadAsync(string key, Func<CancellationToken, Task<string>> load, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        cache.GetOrLoadAsync(key, load, ttl, cancellationToken);

    public Task<bool> InvalidateAsync(string key) => cache.InvalidateAsync(key);

    public Task<int> InvalidatePrefixAsync(string prefix) => cache.InvalidatePrefixAsync(prefix);

    public Task<int> InvalidatePatternAsync(string pattern) => cache.InvalidatePatternAsync(pattern);

    public Task<int> WarmUpAsync(IReadOnlyList<string> keys) => cache.WarmUpAsync(keys);

    public Task<CacheStats> StatsAsync() => cache.GetStatsAsync();
}
