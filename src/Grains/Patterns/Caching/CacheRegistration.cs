using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NoOrg.Configuration;

namespace NoOrg.Grains.Patterns.Caching;

/// <summary>Registers caches in the silo: their options and, optionally, the loader that fills a miss.</summary>
public static class CacheRegistration
{
    /// <summary>A cache with a silo-side loader, resolved from DI per load.</summary>
    public static IServiceCollection AddNoOrgCache<TLoader>(this IServiceCollection services, string name, Action<CacheOptions>? configure = null)
        where TLoader : class, ICacheLoader
    {
        services.AddKeyedSingleton<ICacheLoader, TLoader>(name);
        return services.AddNoOrgCache(name, configure);
    }

    /// <summary>A cache without a silo-side loader (values come from SetAsync or a client-side loader).</summary>
    public static IServiceCollection AddNoOrgCache(this IServiceCollection services, string name, Action<CacheOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new CacheOptions();
        configure?.Invoke(options);
        if (options.MaxEntries is < 1 || options.Partitions is < 1 or > 1024
            || options.DefaultTtl <= TimeSpan.Zero || options.LoadTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure),
                $"Cache '{name}': MaxEntries must be at least 1, Partitions 1 to 1024, DefaultTtl and LoadTimeout above zero.");
        }

        services.AddSingleton(new NamedCacheOptions(name, options));
        services.TryAddSingleton<CacheCatalog>();
        return services;
    }
}

/// <summary>A cache registered in the silo with its options.</summary>
public sealed record NamedCacheOptions(string Name, CacheOptions Options);

/// <summary>The silo's caches by name; a name nobody registered gets the NOORG_CACHE_* defaults.</summary>
public sealed class CacheCatalog(IEnumerable<NamedCacheOptions> registered, NoOrgSettings settings, TimeProvider clock, IServiceProvider services)
{
    private readonly Dictionary<string, CacheOptions> options = registered.ToDictionary(r => r.Name, r => r.Options, StringComparer.Ordinal);

    public CacheConfig Get(string name)
    {
        var o = options.GetValueOrDefault(name) ?? new CacheOptions();
        var defaults = settings.Cache;
        return new CacheConfig(name, o.MaxEntries ?? defaults.MaxEntries, o.Partitions ?? defaults.Partitions,
            o.DefaultTtl ?? TimeSpan.FromSeconds(defaults.DefaultTtlSeconds), o.LoadTimeout ?? TimeSpan.FromSeconds(defaults.LoadTimeoutSeconds),
            o.Clock ?? clock);
    }

    public ICacheLoader? Loader(string name) => services.GetKeyedService<ICacheLoader>(name);
}
