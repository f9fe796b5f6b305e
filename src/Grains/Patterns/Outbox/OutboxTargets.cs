using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>Delivers one outbox entry to its target: a receiver grain, a stream, or a webhook subscription.</summary>
internal sealed class OutboxTargets(
    IGrainFactory grains, OutboxRegistry registry, WebhookDirectory webhooks, IWebhookSender sender, NoOrgSettings settings, TimeProvider clock)
{
    /// <summary>Throws when the target did not take the message; returns normally when it did (or no longer exists).</summary>
    public async Task DeliverAsync(Grain host, OutboxEntry entry)
    {
        var attempt = entry.Attempts + 1;
        var target = entry.Target;
        switch (target.Kind)
        {
            case OutboxTargetKind.Grain:
                await grains.GetGrain(GrainId.Parse(target.Address)).AsReference<IOutboxReceiver>()
                    .ReceiveAsync(new OutboxDelivery(entry.Message, attempt));
                break;
            case OutboxTargetKind.Stream:
                var (provider, streamNamespace) = SplitStream(target);
                await registry.PublishAsync(host.GetStreamProvider(provider), StreamId.Create(streamNamespace, target.Key!), entry.Message);
                break;
            case OutboxTargetKind.Webhook:
                await SendWebhookAsync(entry.Message, target.Address, attempt);
                break;
            default:
                throw new InvalidOperationException($"unknown outbox target kind {target.Kind}");
        }
    }

    private static (string Provider, string Namespace) SplitStream(OutboxTarget target)
    {
        var slash = target.Address.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 || target.Key is null
            ? throw new InvalidOperationException($"stream target '{target}' is not 'provider/namespace' with a key")
            : (target.Address[..slash], target.Address[(slash + 1)..]);
    }

    private async Task SendWebhookAsync(OutboxMessage message, string subscriptionId, int attempt)
    {
        if (await webhooks.FindAsync(subscriptionId) is not { } found)
        {
            return; // unsubscribed since the message was recorded: nobody to tell
        }

        var body = new JsonObject
        {
            ["id"] = message.Id,
            ["type"] = message.Type,
            ["source"] = message.Source,
            ["createdAt"] = message.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["attempt"] = attempt,
            ["data"] = JsonNode.Parse(message.PayloadJson),
        }.ToJsonString(OutboxRegistry.PayloadJson);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [WebhookSignature.MessageIdHeader] = message.Id,
            [WebhookSignature.EventTypeHeader] = message.Type,
            [WebhookSignature.TimestampHeader] = timestamp.ToString(CultureInfo.InvariantCulture),
            [WebhookSignature.SignatureHeader] = WebhookSignature.Sign(found.Secret, timestamp, body),
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Outbox.WebhookTimeoutSeconds));
        await sender.SendAsync(new WebhookRequest(subscriptionId, new Uri(found.Subscription.Url), body, headers), timeout.Token);
    }

    /// <summary>Serializes a payload the way every outbox payload is stored.</summary>
    public static string Payload<T>(T payload) => JsonSerializer.Serialize(payload, OutboxRegistry.PayloadJson);
}
