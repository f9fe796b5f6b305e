using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Client.Webhooks;

/// <summary>Webhook subscriptions: task and saga events posted to a URL, signed with HMAC-SHA256.</summary>
public sealed class WebhookClient
{
    private readonly IClusterClient client;

    internal WebhookClient(IClusterClient client) => this.client = client;

    /// <summary>Subscribes <paramref name="url"/> to <paramref name="events"/> (<c>task.*</c>, <c>saga.completed</c>...); the result holds the signing secret.</summary>
    public Task<WebhookCreated> AddAsync(string url, IReadOnlyList<string> events, string? description = null, string? secret = null) =>
        Webhooks.AddAsync(url, events, description, secret);

    public Task<IReadOnlyList<WebhookSubscription>> ListAsync() => Webhooks.ListAsync();

    /// <summary>False when there was no subscription with this id.</summary>
    public Task<bool> RemoveAsync(string id) => Webhooks.RemoveAsync(id);

    private IWebhooksGrain Webhooks => client.GetGrain<IWebhooksGrain>(0);
}
