using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Caching;

/// <summary>
/// A named cache-aside cache, spread over partition grains by key hash. Keyed by the cache name; answered by a
/// stateless worker on the silo that takes the call, which routes to the key's partition. Values are strings
/// (usually JSON); entries live in memory only.
/// </summary>
[Alias("noorg.cache.cache")]
public interface ICacheGrain : IGrainWithStringKey
{
    /// <summary>A hit refreshes the entry's recency; nothing is loaded on a miss.</summary>
    [Alias("get")] Task<CacheLookup> GetAsync(string key);

    /// <summary>
    /// The value, loaded on a miss by the loader registered in the silo for this cache; concurrent misses of one key
    /// share one load. A null from the loader is returned and not stored.
    /// </summary>
    [Alias("get-or-load"), Requires(AccessRole.Operator)] Task<string?> GetOrLoadAsync(string key);

    /// <summary>Stores a value; <paramref name="ttl"/> null means the cache's default.</summary>
    [Alias("set")] Task SetAsync(string key, string value, TimeSpan? ttl = null);

    /// <summary>For a loader in the caller: a hit, or a token making the caller the single loader (see <see cref="CacheExtensions"/>).</summary>
    [Alias("begin-load")] Task<CacheLoadTicket> BeginLoadAsync(string key);

    [Alias("complete-load")] Task CompleteLoadAsync(string key, Guid loadToken, string value, TimeSpan? ttl = null);

    /// <summary>The caller's load failed; waiting callers retry and one of them becomes the loader.</summary>
    [Alias("abandon-load")] Task AbandonLoadAsync(string key, Guid loadToken);

    /// <summary>True when the key was cached.</summary>
    [Alias("invalidate")] Task<bool> InvalidateAsync(string key);

    /// <summary>Removes every key starting with <paramref name="prefix"/> (empty: everything); returns how many.</summary>
    [Alias("invalidate-prefix")] Task<int> InvalidatePrefixAsync(string prefix);

    /// <summary>Removes every key matching a glob (<c>*</c> any run of characters, <c>?</c> one character); returns how many.</summary>
    [Alias("invalidate-pattern")] Task<int> InvalidatePatternAsync(string pattern);

    /// <summary>Loads the keys that are not cached through the silo's loader; returns how many were loaded.</summary>
    [Alias("warm-up")] Task<int> WarmUpAsync(IReadOnlyList<string> keys);

    [Alias("stats")] Task<CacheStats> GetStatsAsync();
}

/// <summary>One partition of a cache: an LRU list with a size bound. Keyed <c>{cache}/{partition}</c>; use <see cref="ICacheGrain"/>.</summary>
[Alias("noorg.cache.partition")]
public interface ICachePartitionGrain : IGrainWithStringKey
{
    [Alias("get")] Task<CacheLookup> GetAsync(string key);

    [Alias("get-or-load"), Requires(AccessRole.Operator)] Task<string?> GetOrLoadAsync(string key);

    [Alias("set")] Task SetAsync(string key, string value, TimeSpan? ttl);

    [Alias("begin-load")] Task<CacheLoadTicket> BeginLoadAsync(string key);

    [Alias("complete-load")] Task CompleteLoadAsync(string key, Guid loadToken, string value, TimeSpan? ttl);

    [Alias("abandon-load")] Task AbandonLoadAsync(string key, Guid loadToken);

    /// <summary>Removes the keys the filter matches: exact key, prefix or glob.</summary>
    [Alias("invalidate")] Task<int> InvalidateAsync(CacheKeyFilter filter);

    /// <summary>Keys from most to least recently used (for diagnostics and tests).</summary>
    [Alias("keys"), Requires(AccessRole.Reader)] Task<IReadOnlyList<string>> KeysAsync();

    [Alias("stats")] Task<CacheStats> GetStatsAsync();
}

public enum CacheKeyMatch { Exact, Prefix, Glob }

[GenerateSerializer, Immutable, Alias("noorg.cache.key-filter")]
public sealed record CacheKeyFilter(CacheKeyMatch Match, string Text);
