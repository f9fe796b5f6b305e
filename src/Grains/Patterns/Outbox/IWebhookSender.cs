namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Sends one webhook request. The single seam for outbound HTTP, so a per-destination resilience pipeline
/// (timeouts, circuit breaker, bulkhead) can wrap it; the outbox itself does the retries with back-off.
/// Throws when the request did not succeed (no answer, or a status other than 2xx).
/// </summary>
public interface IWebhookSender
{
    Task SendAsync(WebhookRequest request, CancellationToken cancellationToken);
}

/// <summary>A signed request ready to POST: the body and the headers a receiver de-duplicates and verifies with.</summary>
public sealed record WebhookRequest(string SubscriptionId, Uri Url, string Body, IReadOnlyDictionary<string, string> Headers);
