using Microsoft.AspNetCore.Http.HttpResults;
using NoOrg.Client;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Security;
using NoOrg.Silo.Security;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/webhooks</c>: subscriptions that post task and saga events to a URL, signed with HMAC-SHA256.</summary>
internal static class WebhookEndpoints
{
    public static void MapWebhookEndpoints(this RouteGroupBuilder v1)
    {
        // Admin only, reading included: a subscription's URL says where everyone's events go.
        var webhooks = v1.MapGroup("/webhooks").WithTags("Webhooks").Requires(AccessRole.Admin);
        webhooks.MapPost("/", AddAsync).WithName("AddWebhook").WithSummary("Subscribe a URL to events (task.*, saga.completed...); the answer holds the signing secret")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.WebhookRequest, ApiExamples.WebhookCreated);
        webhooks.MapGet("/", (INoOrgClient api) => api.Webhooks.ListAsync()).WithName("ListWebhooks").WithSummary("Every subscription (without secrets)")
            .Example(null, ApiExamples.Webhooks);
        webhooks.MapDelete("/{id}", RemoveAsync).WithName("RemoveWebhook").WithSummary("Remove a subscription")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, null);
    }

    private static async Task<Created<WebhookCreated>> AddAsync(WebhookRequest body, INoOrgClient api)
    {
        var created = await api.Webhooks.AddAsync(body.Url, body.Events, body.Description, body.Secret);
        return TypedResults.Created($"{ApiEndpoints.Prefix}/webhooks/{Uri.EscapeDataString(created.Subscription.Id)}", created);
    }

    private static async Task<NoContent> RemoveAsync(string id, INoOrgClient api) =>
        await api.Webhooks.RemoveAsync(id) ? TypedResults.NoContent() : throw new NotFoundException($"Webhook subscription '{id}' does not exist.");
}
