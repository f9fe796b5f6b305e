using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NoOrg.Client;
using NoOrg.Grains.Alerts;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;
using NoOrg.Silo.Security;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/alerts</c>: alert rules over the cluster's own signals, the ones pending or firing, acknowledgement and silence.</summary>
internal static class AlertEndpoints
{
    public static void MapAlertEndpoints(this RouteGroupBuilder v1)
    {
        var alerts = v1.MapGroup("/alerts").WithTags("Alerts");
        alerts.MapGet("/", (INoOrgClient api) => api.Alerts.ListActiveAsync()).WithName("ListActiveAlerts")
            .WithSummary("The rules pending or firing now").Example(null, ApiExamples.AlertRules);
        alerts.MapGet("/rules", (INoOrgClient api) => api.Alerts.ListRulesAsync()).WithName("ListAlertRules")
            .WithSummary("Every alert rule and its state").Example(null, ApiExamples.AlertRules);
        alerts.MapGet("/rules/{name}", GetAsync).WithName("GetAlertRule").WithSummary("One alert rule, its state and history")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.AlertRule);
        alerts.MapPut("/rules/{name}", (string name, AlertRuleSpec spec, INoOrgClient api, HttpContext http) =>
                api.Alerts.CreateOrReplaceAsync(name, spec, ApiEndpoints.Actor(http)))
            .WithName("SetAlertRule").WithSummary("Create a rule or replace its spec (its state and history are kept)")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.AlertRuleSpec, ApiExamples.AlertRule).Requires(AccessRole.Admin);
        alerts.MapDelete("/rules/{name}", DeleteAsync).WithName("DeleteAlertRule").WithSummary("Delete a rule")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, null).Requires(AccessRole.Admin);
        alerts.MapPost("/rules/{name}/ack", (string name, [FromBody] AlertAckRequest? body, INoOrgClient api, HttpContext http) =>
                api.Alerts.AcknowledgeAsync(name, body?.Note, ApiEndpoints.Actor(http)))
            .WithName("AcknowledgeAlert").WithSummary("Acknowledge a pending or firing rule (notified as alert.acknowledged)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .Example(ApiExamples.AlertAck, ApiExamples.AlertRule);
        alerts.MapPost("/rules/{name}/silence", (string name, AlertSilenceRequest body, INoOrgClient api, HttpContext http) =>
                api.Alerts.SilenceAsync(name, body.For, ApiEndpoints.Actor(http)))
            .WithName("SilenceAlert").WithSummary("No notifications for a time (00:00:00 lifts it); the rule still changes state")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(ApiExamples.AlertSilence, ApiExamples.AlertRule);
    }

    private static async Task<AlertRule> GetAsync(string name, INoOrgClient api) =>
        await api.Alerts.GetAsync(name) ?? throw new NotFoundException($"Alert rule '{name}' does not exist.");

    private static async Task<NoContent> DeleteAsync(string name, INoOrgClient api) =>
        await api.Alerts.DeleteAsync(name) ? TypedResults.NoContent() : throw new NotFoundException($"Alert rule '{name}' does not exist.");
}
