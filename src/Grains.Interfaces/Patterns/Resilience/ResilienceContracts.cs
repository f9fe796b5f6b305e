namespace NoOrg.Grains.Patterns.Resilience;

/// <summary>Polly's circuit states: closed lets calls through, open rejects them, half-open lets a trial call through.</summary>
public enum BreakerState { Closed, Open, HalfOpen, Isolated }

/// <summary>
/// One circuit breaker of one silo. <see cref="Kind"/> is <c>http</c> for the destination's HttpClient pipeline and
/// <c>call</c> for its general pipeline (each has a breaker of its own).
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.resilience.breaker")]
public sealed record BreakerSnapshot(string Destination, string Kind, BreakerState State, long Opened, DateTimeOffset? LastChangedAt);

/// <summary>The breakers of one silo: each silo guards its own outbound calls.</summary>
[GenerateSerializer, Immutable, Alias("noorg.resilience.silo-breakers")]
public sealed record SiloBreakers(string Silo, IReadOnlyList<BreakerSnapshot> Breakers);

/// <summary>
/// Reports the breakers of the silo named by its key (a silo address in <c>SiloAddress.ToParsableString()</c>
/// form): it is always activated on that silo, so asking one per live silo covers the cluster.
/// </summary>
[Alias("noorg.resilience.silo-report")]
public interface IResilienceReportGrain : IGrainWithStringKey
{
    [Alias("get")] Task<SiloBreakers> GetAsync();
}
