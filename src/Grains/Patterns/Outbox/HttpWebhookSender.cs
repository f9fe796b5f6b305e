using System.Text;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary><see cref="IWebhookSender"/> over the named <see cref="HttpClient"/> <see cref="ClientName"/> (timeout from settings).</summary>
internal sealed class HttpWebhookSender(IHttpClientFactory clients) : IWebhookSender
{
    public const string ClientName = "noorg-webhooks";

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

        using var response = await clients.CreateClient(ClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"webhook {request.SubscriptionId} at {request.Url.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}",
                null, response.StatusCode);
        }
    }
}
