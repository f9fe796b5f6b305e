using Microsoft.AspNetCore.Mvc;
using NoOrg.Client;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Silo.Security;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/agents</c>: register (idempotent by id), find by capability, read, drain, remove, health; <c>/v1/health</c>: the cluster report.</summary>
internal static class AgentEndpoints
{
    public static void MapAgentEndpoints(this RouteGroupBuilder v1)
    {
        var agents = v1.MapGroup("/agents").WithTags("Agents");
        agents.MapGet("/", FindAsync).WithName("FindAgents").WithSummary("List agents, or find those with every given capability")
            .Example(null, ApiExamples.AgentList);
        agents.MapGet("/counts", (INoOrgClient api) => api.Agents.CountAsync()).WithName("CountAgents").WithSummary("Agents by status and type")
            .Example(null, ApiExamples.AgentCounts);
        agents.MapGet("/capabilities", (INoOrgClient api) => api.Agents.CapabilitiesAsync()).WithName("AgentCapabilities").WithSummary("Every capability some registered agent has")
            .Example(null, ApiExamples.Capabilities);
        agents.MapPut("/{id}", (string id, AgentRegistration registration, INoOrgClient api) => api.Agents.RegisterAsync(id, registration))
            .WithName("RegisterAgent").WithSummary("Register an agent (the same details again are a no-op, others a 409)")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.AgentRegistration, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapGet("/{id}", (string id, INoOrgClient api) => api.Agents.GetAsync(id)).WithName("GetAgent").WithSummary("One agent")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapPatch("/{id}", (string id, AgentUpdate update, INoOrgClient api) => api.Agents.UpdateAsync(id, update)).WithName("UpdateAgent")
            .WithSummary("Change a registered agent (null fields stay)").ProducesProblem(StatusCodes.Status404NotFound).Example(ApiExamples.AgentUpdate, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapDelete("/{id}", RemoveAsync).WithName("RemoveAgent").WithSummary("Unregister an agent: it goes offline and hands back the tasks it holds")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, null).AgentMay(AgentBinding.RouteId);
        agents.MapGet("/{id}/history", (string id, INoOrgClient api, int skip = 0, int take = 100) => api.Agents.HistoryAsync(id, skip, take))
            .WithName("AgentHistory").WithSummary("The agent's history, newest first").Example(null, ApiExamples.AgentHistory).AgentMay(AgentBinding.RouteId);
        agents.MapPost("/{id}/drain", (string id, [FromBody] ReasonRequest? body, INoOrgClient api) => api.Agents.SetStatusAsync(id, AgentStatus.Draining, (body ?? new()).Reason))
            .WithName("DrainAgent").WithSummary("Stop giving the agent new tasks; it finishes those it holds")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).Example(ApiExamples.Reason, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapPost("/{id}/resume", (string id, [FromBody] ReasonRequest? body, INoOrgClient api) => api.Agents.SetStatusAsync(id, AgentStatus.Available, (body ?? new()).Reason))
            .WithName("ResumeAgent").WithSummary("Give the agent tasks again (after a drain)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).Example(ApiExamples.Reason, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapPost("/{id}/heartbeat", (string id, INoOrgClient api) => api.Agents.HeartbeatAsync(id)).WithName("AgentHeartbeat")
            .WithSummary("The agent is alive (a worker that is not .NET calls this every few seconds)").ProducesProblem(StatusCodes.Status404NotFound)
            .Example(null, ApiExamples.AgentSnapshot).AgentMay(AgentBinding.RouteId);
        agents.MapGet("/{id}/health", (string id, INoOrgClient api) => api.Health.AgentAsync(id)).WithName("AgentHealth")
            .WithSummary("The agent's health verdict, checks, metrics and issues").ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.AgentHealth).AgentMay(AgentBinding.RouteId);

        v1.MapGet("/health", (INoOrgClient api) => api.Health.ReportAsync()).WithTags("Agents").WithName("ClusterHealth")
            .WithSummary("The cluster's agent health report").Example(null, ApiExamples.HealthReport);
    }

    private static Task<Page<AgentSummary>> FindAsync(INoOrgClient api, string[]? capability, string? type, string? status, int skip = 0, int take = 100)
    {
        var query = new ApiQuery();
        var filter = new AgentQuery(ApiQuery.Strings(capability), string.IsNullOrEmpty(type) ? null : type, query.Enum<AgentStatus>("status", status), skip, take);
        query.ThrowIfInvalid();
        return api.Agents.FindAsync(filter);
    }

    private static async Task<IResult> RemoveAsync(string id, INoOrgClient api, string reason = "by operator")
    {
        await api.Agents.GetAsync(id); // 404 for an agent that is not registered
        await api.Agents.UnregisterAsync(id, reason);
        return TypedResults.NoContent();
    }
}
