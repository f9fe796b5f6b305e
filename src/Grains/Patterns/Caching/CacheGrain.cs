using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Patterns.Caching;

/// <summary>
/// The front of a cache on the silo that takes the call: it knows the cache's partition count from the silo's
/// configuration, so callers need not, and routes each key to its partition grain or fans out to all of them.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class CacheGrain(CacheCatalog catalog, IGrainFactory grains) : Grain, ICacheGrain
{
    private CacheConfig? config;

    private CacheConfig Config => config ??= catalog.Get(this.GetPrimaryKeyString());

    public Task<CacheLookup> GetAsync(string key) => Partition(key).GetAsync(key);

    public Task<string?> GetOrLoadAsync(string key) => Partition(key).GetOrLoadAsync(key);

    public Task SetAsync(string key, string value, TimeSpan? ttl = null) => Partition(key).SetAsync(key, value, ttl);

    public Task<CacheLoadTicket> BeginLoadAsync(string key) => Partition(key).BeginLoadAsync(key);

    public Task CompleteLoadAsync(string key, Guid loadToken, string value, TimeSpan? ttl = null) => Partition(key).CompleteLoadAsync(key, loadToken, value, ttl);

    public Task AbandonLoadAsync(string key, Guid loadToken) => Partition(key).AbandonLoadAsync(key, loadToken);

    public async Task<bool> InvalidateAsync(string key) => await Partition(key).InvalidateAsync(new CacheKeyFilter(CacheKeyMatch.Exact, key)) > 0;

    public Task<int> InvalidatePrefixAsync(string prefix) => InvalidateEverywhereAsync(new CacheKeyFilter(CacheKeyMatch.Prefix, prefix ?? ""));

    public Task<int> InvalidatePatternAsync(string pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new ValidationException("A pattern must not be empty; use '*' to remove everything.");
        }

        return InvalidateEverywhereAsync(new CacheKeyFilter(CacheKeyMatch.Glob, pattern));
    }

    public async Task<int> WarmUpAsync(IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var loaded = 0;
        foreach (var group in keys.Distinct(StringComparer.Ordinal).GroupBy(PartitionIndex))
        {
            var partition = PartitionAt(group.Key);
            foreach (var key in group)
            {
                if (!(await partition.GetAsync(key)).Found && await partition.GetOrLoadAsync(key) is not null)
                {
                    loaded++;
                }
            }
        }

        return loaded;
    }

    public async Task<CacheStats> GetStatsAsync()
    {
        var all = await Task.WhenAll(Partitions().Select(p => p.GetStatsAsync()));
        return new CacheStats(Config.Name, all.Length, all.Sum(s => s.Size), all.Sum(s => s.Capacity), all.Sum(s => s.Hits),
            all.Sum(s => s.Misses), all.Sum(s => s.Loads), all.Sum(s => s.LoadFailures), all.Sum(s => s.Evictions),
            all.Sum(s => s.Expirations), all.Sum(s => s.Invalidations));
    }

    private async Task<int> InvalidateEverywhereAsync(CacheKeyFilter filter) =>
        (await Task.WhenAll(Partitions().Select(p => p.InvalidateAsync(filter)))).Sum();

    private ICachePartitionGrain Partition(string key) => PartitionAt(PartitionIndex(key));

    private ICachePartitionGrain PartitionAt(int index) => grains.GetGrain<ICachePartitionGrain>($"{Config.Name}/{index}");

    private IEnumerable<ICachePartitionGrain> Partitions() => Enumerable.Range(0, Config.Partitions).Select(PartitionAt);

    /// <summary>FNV-1a over the key's characters: the same on every silo and process, unlike string.GetHashCode.</summary>
    private int PartitionIndex(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)Config.Partitions);
    }
}
