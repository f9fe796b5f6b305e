namespace NoOrg.Grains.Patterns.Caching;

/// <summary>Client-side cache-aside with a loader in the caller, coordinated by the cache so one caller loads.</summary>
public static class CacheExtensions
{
    public static ICacheGrain Cache(this IGrainFactory grains, string name)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<ICacheGrain>(name);
    }

    /// <summary>
    /// The cached value or, on a miss, the value of <paramref name="load"/>, stored for <paramref name="ttl"/> (null:
    /// the cache's default). Concurrent callers anywhere in the cluster that miss the same key wait for one load.
    /// </summary>
    public static async Task<string> GetOrLoadAsync(this ICacheGrain cache, string key, Func<CancellationToken, Task<string>> load,
        TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(load);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ticket = await cache.BeginLoadAsync(key);
            if (ticket.Found)
            {
                return ticket.Value!;
            }

            if (ticket.LoadToken is not { } token)
            {
                continue; // the previous loader gave up; ask again, maybe to become the loader
            }

            string value;
            try
            {
                value = await load(cancellationToken);
            }
            catch
            {
                await cache.AbandonLoadAsync(key, token);
                throw;
            }

            await cache.CompleteLoadAsync(key, token, value, ttl);
            return value;
        }
    }
}
