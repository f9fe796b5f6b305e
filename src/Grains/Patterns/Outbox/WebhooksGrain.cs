using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>Validates and stores webhook subscriptions; the table is the source of truth, so any activation will do.</summary>
[StatelessWorker]
public sealed class WebhooksGrain(WebhookDirectory directory, TimeProvider clock) : Grain, IWebhooksGrain
{
    private const int MaxUrlLength = 2000;
    private const int MaxPatterns = 50;
    private const int MaxPatternLength = 200;
    private const int MaxDescriptionLength = 500;

    public async Task<WebhookCreated> AddAsync(string url, IReadOnlyList<string> events, string? description, string? secret)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"url: must be an absolute http or https URL of at most {MaxUrlLength} characters (got '{url}')");
        }

        if (events is null || events.Count is 0 or > MaxPatterns)
        {
            problems.Add($"events: 1 to {MaxPatterns} event types or prefixes ending in '*' (e.g. task.*)");
        }
        else if (events.FirstOrDefault(e => string.IsNullOrWhiteSpace(e) || e.Length > MaxPatternLength || e.IndexOf('*', StringComparison.Ordinal) is >= 0 and var i && i != e.Length - 1) is { } bad)
        {
            problems.Add($"events: '{bad}' must be 1 to {MaxPatternLength} characters with '*' only at the end");
        }

        if (description is { Length: > MaxDescriptionLength })
        {
            problems.Add($"description: at most {MaxDescriptionLength} characters");
        }

        if (secret is not null && (secret.Length < 16 || secret.Length > 256))
        {
            problems.Add("secret: 16 to 256 characters when given (or leave it out for a random one)");
        }

        if (problems.Count > 0)
        {
            throw new ValidationException($"Webhook cannot be added: {string.Join("; ", problems)}.");
        }

        var subscription = new WebhookSubscription(
            "wh-" + Guid.NewGuid().ToString("N")[..12], url, [.. events!.Distinct(StringComparer.Ordinal)], description, clock.GetUtcNow());
        var key = secret ?? WebhookSignature.NewSecret();
        await directory.AddAsync(subscription, key);
        return new WebhookCreated(subscription, key);
    }

    public Task<IReadOnlyList<WebhookSubscription>> ListAsync() => directory.ListAsync();

    public async Task<bool> RemoveAsync(string id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new ValidationException("Webhook cannot be removed: id: required.");
        }

        return await directory.RemoveAsync(id);
    }
}
