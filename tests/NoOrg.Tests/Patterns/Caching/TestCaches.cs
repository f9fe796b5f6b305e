using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using NoOrg.Grains.Patterns.Caching;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Patterns.Caching;

/// <summary>The caches the cache tests use, registered in every test silo.</summary>
[TestSiloExtension]
public sealed class TestCaches : ISiloConfigurator
{
    public const string Lru = "tests.lru";
    public const string Ttl = "tests.ttl";
    public const string Loaded = "tests.loaded";
    public const string Stats = "tests.stats";
    public const string Open = "tests.open";

    /// <summary>One fake clock per test cluster (keyed by cluster id), shared by its silos.</summary>
    public static FakeTimeProvider ClockOf(string clusterId) => Clocks.GetOrAdd(clusterId, _ => new FakeTimeProvider(DateTimeOffset.UtcNow));

    private static readonly ConcurrentDictionary<string, FakeTimeProvider> Clocks = new();

    public void Configure(ISiloBuilder siloBuilder)
    {
        var clock = ClockOf(siloBuilder.Configuration["NOORG_CLUSTER_ID"] ?? "");
        siloBuilder.Services.AddNoOrgCache(Lru, o => (o.Partitions, o.MaxEntries) = (1, 3));
        siloBuilder.Services.AddNoOrgCache(Ttl, o => (o.Partitions, o.Clock, o.DefaultTtl) = (2, clock, TimeSpan.FromMinutes(10)));
        siloBuilder.Services.AddNoOrgCache<CountingLoader>(Loaded);
        siloBuilder.Services.AddNoOrgCache(Stats, o => o.Partitions = 4);
        siloBuilder.Services.AddNoOrgCache(Open);
    }
}

/// <summary>Loads "value of {key}" slowly enough that concurrent misses overlap, counting loads per key.</summary>
public sealed class CountingLoader : ICacheLoader
{
    public static readonly ConcurrentDictionary<string, int> Loads = new();

    public async Task<string?> LoadAsync(string key, CancellationToken cancellationToken)
    {
        Loads.AddOrUpdate(key, 1, (_, n) => n + 1);
        await Task.Delay(300, cancellationToken);
        return key.EndsWith("-missing", StringComparison.Ordinal) ? null : $"value of {key}";
    }
}
