using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// A webhook subscription: events whose type matches one of <see cref="Events"/> (exact, or a prefix ending in
/// <c>*</c>, e.g. <c>task.*</c>) are POSTed to <see cref="Url"/>. The signing secret is shown only when created.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.webhook")]
public sealed record WebhookSubscription(string Id, string Url, IReadOnlyList<string> Events, string? Description, DateTimeOffset CreatedAt);

/// <summary>A new subscription and its secret (HMAC-SHA256 key of the <c>NoOrg-Signature</c> header).</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.webhook-created")]
public sealed record WebhookCreated(WebhookSubscription Subscription, string Secret);

/// <summary>Adds, lists and removes webhook subscriptions (stored in the cluster's database).</summary>
[Alias("noorg.outbox.webhooks")]
[Requires(AccessRole.Admin)]
public interface IWebhooksGrain : IGrainWithIntegerKey
{
    /// <summary>A null <paramref name="secret"/> gets a random one.</summary>
    [Alias("add")] Task<WebhookCreated> AddAsync(string url, IReadOnlyList<string> events, string? description, string? secret);

    [Alias("list")] Task<IReadOnlyList<WebhookSubscription>> ListAsync();

    /// <summary>False when no subscription had that id.</summary>
    [Alias("remove")] Task<bool> RemoveAsync(string id);
}
