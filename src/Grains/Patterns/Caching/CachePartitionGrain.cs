using System.Text.RegularExpressions;
using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Patterns.Caching;

/// <summary>
/// One partition of a cache, in memory. Reentrant so a slow load of one key does not hold up hits on others; every
/// change to the entries happens within one turn, so the LRU list is never seen half-updated.
/// </summary>
[Reentrant]
public sealed class CachePartitionGrain(CacheCatalog catalog) : Grain, ICachePartitionGrain
{
    private readonly Dictionary<string, Flight> flights = new(StringComparer.Ordinal);
    private CacheConfig config = null!;
    private LruEntries entries = null!;
    private long hits, misses, loads, loadFailures, evictions, expirations, invalidations;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var id = this.GetPrimaryKeyString();
        config = catalog.Get(id[..id.LastIndexOf('/')]);
        entries = new LruEntries(config.PartitionCapacity);
        var sweep = TimeSpan.FromTicks(Math.Clamp(config.DefaultTtl.Ticks, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
        this.RegisterGrainTimer(_ =>
        {
            expirations += entries.RemoveExpired(config.Clock.GetUtcNow());
            return Task.CompletedTask;
        }, sweep, sweep);
        return Task.CompletedTask;
    }

    public Task<CacheLookup> GetAsync(string key)
    {
        var value = Lookup(key);
        return Task.FromResult(new CacheLookup(value is not null, value));
    }

    public async Task<string?> GetOrLoadAsync(string key)
    {
        if (Lookup(key) is { } cached)
        {
            return cached;
        }

        while (true)
        {
            if (flights.TryGetValue(key, out var running) && !Overdue(running))
            {
                var result = await WaitAsync(key, running);
                if (!result.Abandoned)
                {
                    return result.Value;
                }

                continue;
            }

            var loader = catalog.Loader(config.Name)
                ?? throw new ValidationException($"Cache '{config.Name}' has no loader in the silo; store values with SetAsync or load in the caller (CacheExtensions.GetOrLoadAsync).");
            var flight = Start(key);
            string? value;
            try
            {
                using var timeout = new CancellationTokenSource(config.LoadTimeout, config.Clock);
                value = await loader.LoadAsync(key, timeout.Token);
            }
            catch (Exception e)
            {
                loadFailures++;
                flights.Remove(key);
                var failure = e as NoOrgException ?? new UnavailableException($"Loading key '{key}' of cache '{config.Name}' failed: {e.GetType().Name}: {e.Message}");
                flight.Done.TrySetException(failure);
                throw failure;
            }

            loads++;
            Finish(key, flight, value, null);
            return value;
        }
    }

    public Task SetAsync(string key, string value, TimeSpan? ttl)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckKey(key);
        Store(key, value, ttl);
        return Task.CompletedTask;
    }

    public async Task<CacheLoadTicket> BeginLoadAsync(string key)
    {
        if (Lookup(key) is { } cached)
        {
            return new CacheLoadTicket(true, cached, null);
        }

        while (true)
        {
            if (flights.TryGetValue(key, out var running))
            {
                if (Overdue(running))
                {
                    // The loader went silent (crashed caller): free its waiters, let the next caller load.
                    flights.Remove(key);
                    running.Done.TrySetResult(FlightResult.Gone);
                }
                else
                {
                    var result = await WaitAsync(key, running);
                    if (result.Abandoned || result.Value is null)
                    {
                        continue;
                    }

                    return new CacheLoadTicket(true, result.Value, null);
                }
            }

            return new CacheLoadTicket(false, null, Start(key).Token);
        }
    }

    public Task CompleteLoadAsync(string key, Guid loadToken, string value, TimeSpan? ttl)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (flights.TryGetValue(key, out var flight) && flight.Token == loadToken)
        {
            loads++;
            Finish(key, flight, value, ttl);
        }

        return Task.CompletedTask; // an overdue loader's late value is dropped: a newer load may be under way
    }

    public Task AbandonLoadAsync(string key, Guid loadToken)
    {
        if (flights.TryGetValue(key, out var flight) && flight.Token == loadToken)
        {
            loadFailures++;
            flights.Remove(key);
            flight.Done.TrySetResult(FlightResult.Gone);
        }

        return Task.CompletedTask;
    }

    public Task<int> InvalidateAsync(CacheKeyFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        Func<string, bool> match = filter.Match switch
        {
            CacheKeyMatch.Exact => k => k == filter.Text,
            CacheKeyMatch.Prefix => k => k.StartsWith(filter.Text, StringComparison.Ordinal),
            _ => Glob(filter.Text),
        };

        var removed = filter.Match == CacheKeyMatch.Exact ? (entries.Remove(filter.Text) ? 1 : 0) : entries.RemoveWhere(match);
        foreach (var (key, flight) in flights.Where(f => match(f.Key)))
        {
            flight.Stale = true; // a load that began before the invalidation must not store what it read
        }

        invalidations += removed;
        return Task.FromResult(removed);
    }

    public Task<IReadOnlyList<string>> KeysAsync() => Task.FromResult(entries.KeysByRecency());

    public Task<CacheStats> GetStatsAsync() => Task.FromResult(new CacheStats(config.Name, 1, entries.Count, entries.Capacity,
        hits, misses, loads, loadFailures, evictions, expirations, invalidations));

    internal static Func<string, bool> Glob(string pattern)
    {
        var regex = new Regex("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
        return regex.IsMatch;
    }

    private string? Lookup(string key)
    {
        CheckKey(key);
        var entry = entries.Touch(key);
        if (entry is not null && entry.ExpiresAt <= config.Clock.GetUtcNow())
        {
            entries.Remove(key);
            expirations++;
            entry = null;
        }

        if (entry is null)
        {
            misses++;
            CacheMetrics.Lookup(config.Name, hit: false);
            return null;
        }

        hits++;
        CacheMetrics.Lookup(config.Name, hit: true);
        return entry.Value;
    }

    private void Store(string key, string value, TimeSpan? ttl)
    {
        var lifetime = ttl ?? config.DefaultTtl;
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ValidationException($"A time to live must be positive; got {lifetime}.");
        }

        evictions += entries.Put(key, value, config.Clock.GetUtcNow() + lifetime);
    }

    private Flight Start(string key)
    {
        var flight = new Flight(Guid.NewGuid(), config.Clock.GetUtcNow());
        flights[key] = flight;
        return flight;
    }

    private void Finish(string key, Flight flight, string? value, TimeSpan? ttl)
    {
        flights.Remove(key);
        if (value is not null && !flight.Stale)
        {
            Store(key, value, ttl);
        }

        flight.Done.TrySetResult(new FlightResult(false, value));
    }

    private bool Overdue(Flight flight) => config.Clock.GetUtcNow() - flight.StartedAt > config.LoadTimeout;

    private async Task<FlightResult> WaitAsync(string key, Flight flight)
    {
        try
        {
            return await flight.Done.Task.WaitAsync(config.LoadTimeout, config.Clock);
        }
        catch (TimeoutException)
        {
            throw new UnavailableException($"Loading key '{key}' of cache '{config.Name}' took longer than {config.LoadTimeout.TotalSeconds:0} s.");
        }
    }

    private static void CheckKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 1024)
        {
            throw new ValidationException("A cache key must be 1 to 1024 characters long.");
        }
    }

    private sealed class Flight(Guid token, DateTimeOffset startedAt)
    {
        public Guid Token { get; } = token;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public TaskCompletionSource<FlightResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Stale { get; set; }
    }

    private sealed record FlightResult(bool Abandoned, string? Value)
    {
        public static readonly FlightResult Gone = new(true, null);
    }
}
