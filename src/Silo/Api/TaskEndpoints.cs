using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NoOrg.Client;
using NoOrg.Grains;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Silo.Security;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/tasks</c>: create (idempotent by key), list, read, history, and every lifecycle change.</summary>
internal static class TaskEndpoints
{
    public static void MapTaskEndpoints(this RouteGroupBuilder v1)
    {
        var tasks = v1.MapGroup("/tasks").WithTags("Tasks");
        tasks.MapPost("/", CreateAsync).WithName("CreateTask").WithSummary("Create a task")
            .WithDescription("With an Idempotency-Key header (or idempotencyKey in the body), the same key and content return the task created first; other content is a 409.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.TaskSpec, ApiExamples.TaskSnapshot);
        tasks.MapGet("/", ListAsync).WithName("ListTasks").WithSummary("List tasks with filters, oldest first").Example(null, ApiExamples.TaskList)
            .AgentMay(AgentBinding.AssignedToQuery);
        tasks.MapGet("/statistics", (INoOrgClient api) => api.Tasks.StatisticsAsync()).WithName("TaskStatistics").WithSummary("Counts by state, priority and type; processing times; success rate")
            .Example(null, ApiExamples.TaskStatistics);
        tasks.MapGet("/estimate", EstimateAsync).WithName("EstimateTaskDuration").WithSummary("How long a task of a type takes, from finished tasks")
            .Example(null, ApiExamples.DurationEstimate);
        tasks.MapGet("/{id}", GetAsync).WithName("GetTask").WithSummary("One task (an agent credential: one assigned to its agent)")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.TaskSnapshot).AgentMay(AgentBinding.Endpoint);
        tasks.MapPatch("/{id}", (string id, TaskUpdate update, INoOrgClient api, HttpContext http) => api.Tasks.UpdateAsync(id, update, ApiEndpoints.Actor(http)))
            .WithName("UpdateTask").WithSummary("Change a task that is not finished (null fields stay; metadata is merged)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).Example(ApiExamples.TaskUpdate, ApiExamples.TaskSnapshot);
        tasks.MapGet("/{id}/history", HistoryAsync).WithName("TaskHistory").WithSummary("Every step of a task, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.TaskHistory);
        Change(tasks, "cancel", "CancelTask", "Cancel a task that has not finished", ApiExamples.Reason,
            (string id, [FromBody] ReasonRequest? body, INoOrgClient api, HttpContext http) => api.Tasks.CancelAsync(id, (body ?? new()).Reason, ApiEndpoints.Actor(http)));
        Change(tasks, "assign", "AssignTask", "Assign a pending task to an agent", ApiExamples.Agent,
            (string id, AgentRequest body, INoOrgClient api, HttpContext http) => api.Tasks.AssignAsync(id, body.AgentId, ApiEndpoints.Actor(http)));
        Change(tasks, "unassign", "UnassignTask", "Take a task back from its agent (back to pending)", ApiExamples.Reason,
            (string id, [FromBody] ReasonRequest? body, INoOrgClient api, HttpContext http) => api.Tasks.UnassignAsync(id, (body ?? new()).Reason, ApiEndpoints.Actor(http)));
        Change(tasks, "reassign", "ReassignTask", "Move a task to another agent", ApiExamples.Reassign,
            (string id, ReassignRequest body, INoOrgClient api, HttpContext http) => api.Tasks.ReassignAsync(id, body.AgentId, body.Reason, ApiEndpoints.Actor(http)));
        // What a worker reports (start, complete, fail, heartbeat, hand back) is mapped with the rest of the HTTP worker protocol: WorkerEndpoints.
    }

    internal static RouteHandlerBuilder Change(RouteGroupBuilder tasks, string action, string name, string summary, object example, Delegate handler) =>
        tasks.MapPost("/{id}/" + action, handler).WithName(name).WithSummary(summary)
            .Produces<TaskSnapshot>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .Example(example, ApiExamples.TaskSnapshot);

    private static async Task<TaskSnapshot> GetAsync(string id, INoOrgClient api, HttpContext http)
    {
        var task = await api.Tasks.GetAsync(id);
        ApiAccess.EnsureActsFor(http, task.AssignedTo);
        return task;
    }

    private static async Task<Created<TaskSnapshot>> CreateAsync(
        TaskSpec spec, INoOrgClient api, HttpContext http, [FromHeader(Name = ApiEndpoints.IdempotencyKeyHeader)] string? idempotencyKey)
    {
        // The header is the body's idempotencyKey by another name: the task id is derived from it, so a repeat reaches
        // the same durable task grain, which compares content (this survives a silo restart; nothing is cached here).
        if (!string.IsNullOrEmpty(idempotencyKey))
        {
            if (spec.IdempotencyKey is { } inBody && !string.Equals(inBody, idempotencyKey, StringComparison.Ordinal))
            {
                throw new ValidationException("Invalid task", [$"idempotencyKey: the body says '{inBody}' and the {ApiEndpoints.IdempotencyKeyHeader} header '{idempotencyKey}'; send one, or the same in both"]);
            }

            spec = spec with { IdempotencyKey = idempotencyKey };
        }

        var task = await api.Tasks.CreateAsync(spec, ApiEndpoints.Actor(http));
        return TypedResults.Created($"{ApiEndpoints.Prefix}/tasks/{Uri.EscapeDataString(task.Id)}", task);
    }

    private static Task<Page<TaskSummary>> ListAsync(
        INoOrgClient api, string[]? state, string[]? type, string[]? priority, string? assignedTo,
        DateTimeOffset? createdAfter, DateTimeOffset? createdBefore, DateTimeOffset? updatedAfter, DateTimeOffset? updatedBefore,
        int skip = 0, int take = 50)
    {
        var query = new ApiQuery();
        var filter = new TaskQuery(query.Enums<TaskState>("state", state), ApiQuery.Strings(type), query.Enums<TaskPriority>("priority", priority),
            string.IsNullOrEmpty(assignedTo) ? null : assignedTo, createdAfter, createdBefore, updatedAfter, updatedBefore, skip, take);
        query.ThrowIfInvalid();
        return api.Tasks.ListAsync(filter);
    }

    private static Task<DurationEstimate> EstimateAsync(INoOrgClient api, string type, string? agentId, string? priority)
    {
        var query = new ApiQuery();
        var level = query.Enum<TaskPriority>("priority", priority) ?? TaskPriority.Medium;
        query.ThrowIfInvalid();
        return api.Tasks.EstimateAsync(type, string.IsNullOrEmpty(agentId) ? null : agentId, level);
    }

    private static async Task<Page<TaskEvent>> HistoryAsync(string id, INoOrgClient api, int skip = 0, int take = 100)
    {
        var page = await api.Tasks.HistoryAsync(id, skip, take);
        // A task that was never created has no history; say so rather than answer an empty page.
        return page.Total == 0 && await api.Tasks.TryGetAsync(id) is null ? throw NotFoundException.ForTask(id) : page;
    }
}
