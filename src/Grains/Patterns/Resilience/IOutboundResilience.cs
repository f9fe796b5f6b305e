using Polly;

namespace NoOrg.Grains.Patterns.Resilience;

/// <summary>
/// Retry, timeout, circuit breaker and bulkhead for calls leaving the silo, one set per destination name (an LLM
/// provider, a webhook host, an external system). The settings come from NOORG_RESILIENCE_* and its
/// per-destination overrides. Inject it wherever something calls out.
/// </summary>
public interface IOutboundResilience
{
    /// <summary>The destination's pipeline for any call (an SDK client, a database of someone else's).</summary>
    ResiliencePipeline Pipeline(string destination);

    /// <summary>An HttpClient whose requests go through the destination's HTTP pipeline; dispose it after use (the sockets are pooled).</summary>
    HttpClient CreateHttpClient(string destination);

    /// <summary>This silo's breakers, one per destination and kind that has been used.</summary>
    IReadOnlyList<BreakerSnapshot> Breakers();
}
