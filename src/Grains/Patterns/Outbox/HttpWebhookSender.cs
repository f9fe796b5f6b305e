using System.Text;
using NoOrg.Grains.Patterns.Resilience;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// <see cref="IWebhookSender"/> through the outbound resilience pipeline of the webhook's host
/// (destination <c>webhook:host:port</c>): its breaker stops the relay from hammering a host that is down, its
/// bulkhead bounds the calls in flight. The relay's own durable retries come on top.
/// </summary>
internal sealed class HttpWebhookSender(IOutboundResilience resilience) : IWebhookSender
{
    public static string Destination(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return "webhook:" + url.Authority;
    }

    public async Task SendAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Url)
        {
            Content = new StringContent(request.Body, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var client = resilience.CreateHttpClient(Destination(request.Url));
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"webhook {request.SubscriptionId} at {request.Url.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}",
                null, response.StatusCode);
        }
    }
}
