using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Caching;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Patterns.Caching;

public abstract class CacheTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task Eviction_drops_the_least_recently_used_entry_and_reads_refresh_recency()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Lru); // one partition of three entries
        var before = await cache.GetStatsAsync();
        await cache.SetAsync("a", "1");
        await cache.SetAsync("b", "2");
        await cache.SetAsync("c", "3");
        Assert.True((await cache.GetAsync("a")).Found); // a is now the most recently used; b the least

        await cache.SetAsync("d", "4");

        Assert.Equal(["d", "a", "c"], await fixture.Client.GetGrain<ICachePartitionGrain>(TestCaches.Lru + "/0").KeysAsync());
        Assert.False((await cache.GetAsync("b")).Found);
        Assert.Equal(new CacheLookup(true, "1"), await cache.GetAsync("a"));
        var after = await cache.GetStatsAsync();
        Assert.Equal(1, after.Evictions - before.Evictions);
        Assert.Equal(3, after.Size);
        Assert.Equal(3, after.Capacity);
    }

    [SkippableFact]
    public async Task Entries_expire_after_their_time_to_live()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var clock = TestCaches.ClockOf(fixture.Properties["NOORG_CLUSTER_ID"]);
        var cache = fixture.Client.Cache(TestCaches.Ttl);
        var run = Guid.NewGuid().ToString();
        await cache.SetAsync(run + "/default", "ten minutes");
        await cache.SetAsync(run + "/short", "one minute", TimeSpan.FromMinutes(1));

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.False((await cache.GetAsync(run + "/short")).Found);
        Assert.True((await cache.GetAsync(run + "/default")).Found);

        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.False((await cache.GetAsync(run + "/default")).Found);
        Assert.True((await cache.GetStatsAsync()).Expirations >= 2);
        await Assert.ThrowsAsync<ValidationException>(() => cache.SetAsync(run + "/never", "x", TimeSpan.Zero));
    }

    [SkippableFact]
    public async Task Keys_are_invalidated_one_by_one_by_prefix_and_by_pattern()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Open);
        var run = Guid.NewGuid().ToString("N");
        string[] keys = [$"{run}:user:1:name", $"{run}:user:1:email", $"{run}:user:22:name", $"{run}:order:1", $"{run}:single"];
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "v");
        }

        Assert.True(await cache.InvalidateAsync($"{run}:single"));
        Assert.False(await cache.InvalidateAsync($"{run}:single"));
        Assert.Equal(2, await cache.InvalidatePatternAsync($"{run}:user:*:name"));
        var found = await Task.WhenAll(keys[..4].Select(async k => (await cache.GetAsync(k)).Found));
        Assert.Equal([false, true, false, true], found);
        Assert.Equal(1, await cache.InvalidatePatternAsync($"{run}:order:?"));
        Assert.Equal(1, await cache.InvalidatePrefixAsync($"{run}:user:"));
        Assert.DoesNotContain(true, await Task.WhenAll(keys.Select(async k => (await cache.GetAsync(k)).Found)));
    }

    [SkippableFact]
    public async Task Statistics_count_hits_misses_size_and_hit_rate()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Stats); // used by this test only
        await cache.SetAsync("a", "1");
        await cache.SetAsync("b", "2");
        await cache.GetAsync("a");
        await cache.GetAsync("a");
        await cache.GetAsync("b");
        await cache.GetAsync("missing");

        var stats = await cache.GetStatsAsync();
        Assert.Equal((3L, 1L, 2L, 4), (stats.Hits, stats.Misses, stats.Size, stats.Partitions));
        Assert.Equal(0.75, stats.HitRate, 3);
    }

    [SkippableFact]
    public async Task A_burst_of_misses_for_one_key_calls_the_silo_loader_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Loaded);
        var key = Guid.NewGuid().ToString();

        var values = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => cache.GetOrLoadAsync(key)));

        Assert.All(values, v => Assert.Equal($"value of {key}", v));
        Assert.Equal(1, CountingLoader.Loads[key]);
        Assert.Equal($"value of {key}", await cache.GetOrLoadAsync(key));
        Assert.Equal(1, CountingLoader.Loads[key]);
    }

    [SkippableFact]
    public async Task A_burst_of_misses_with_a_loader_in_the_caller_loads_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Open);
        var key = Guid.NewGuid().ToString();
        var loads = 0;
        async Task<string> LoadAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref loads);
            await Task.Delay(300, cancellationToken);
            return "loaded";
        }

        var values = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => cache.GetOrLoadAsync(key, LoadAsync)));

        Assert.All(values, v => Assert.Equal("loaded", v));
        Assert.Equal(1, loads);
    }

    [SkippableFact]
    public async Task A_failed_caller_load_lets_the_next_caller_load()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Open);
        var key = Guid.NewGuid().ToString();
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrLoadAsync(key, _ => throw new InvalidOperationException("source down")));
        Assert.Equal("second", await cache.GetOrLoadAsync(key, _ => Task.FromResult("second")));
        Assert.Equal(new CacheLookup(true, "second"), await cache.GetAsync(key));
    }

    [SkippableFact]
    public async Task Warm_up_loads_what_is_missing_and_a_cache_without_loader_says_so()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var cache = fixture.Client.Cache(TestCaches.Loaded);
        var run = Guid.NewGuid().ToString();
        await cache.SetAsync(run + "/present", "already");

        Assert.Equal(2, await cache.WarmUpAsync([run + "/a", run + "/b", run + "/present", run + "/x-missing"]));

        Assert.Equal(new CacheLookup(true, $"value of {run}/a"), await cache.GetAsync(run + "/a"));
        Assert.False(CountingLoader.Loads.ContainsKey(run + "/present"));
        Assert.False((await cache.GetAsync(run + "/x-missing")).Found);
        await Assert.ThrowsAsync<ValidationException>(() => fixture.Client.Cache(TestCaches.Open).GetOrLoadAsync("k"));
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteCacheTests(SqliteClusterFixture fixture) : CacheTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresCacheTests(PostgresClusterFixture fixture) : CacheTests(fixture);
