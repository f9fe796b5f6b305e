using System.Globalization;
using NoOrg.Client;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;
using NoOrg.Grains.Tasks;
using NoOrg.Silo.Security;
using NoOrg.Silo.Workers;

namespace NoOrg.Silo.Api;

/// <summary>
/// The HTTP worker protocol (docs/workers-http.md): a worker that is not .NET long-polls its agent's tasks, starts,
/// heartbeats, completes, fails or hands back each one, naming the attempt, and stops cleanly. Registration is
/// <c>PUT /v1/agents/{id}</c>.
/// </summary>
internal static class WorkerEndpoints
{
    /// <summary>Answer header of a poll: how often, in seconds, the worker should heartbeat the tasks it runs.</summary>
    public const string HeartbeatHeader = "NoOrg-Heartbeat-Seconds";

    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(20);

    public static void MapWorkerEndpoints(this RouteGroupBuilder v1)
    {
        var agents = v1.MapGroup("/agents").WithTags("Workers");
        agents.MapGet("/{id}/tasks/next", NextAsync).WithName("NextTask")
            .WithSummary("Long poll: the next task assigned to the agent (200), or none within `wait` seconds (204)")
            .WithDescription("`worker` is the id the worker process chose for itself at start; another process of the same agent is refused (409) while this one keeps in touch. Polls and heartbeats are the agent's heartbeat.")
            .Produces<TaskSnapshot>().Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .Example(null, ApiExamples.AssignedTask)
            .AgentMay(AgentBinding.RouteId, AccessRole.Operator); // a GET that takes deliveries and keeps the agent alive: not for readers
        agents.MapPost("/{id}/disconnect", (string id, string? worker, HttpWorkerSessions sessions) => sessions.StopAsync(id, Worker(worker)))
            .WithName("DisconnectWorker").WithSummary("The worker stops: the agent goes offline, handing back the tasks it holds, and the worker's session ends")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .Example(null, ApiExamples.AgentSnapshot with { Status = AgentStatus.Offline, StatusReason = "its HTTP worker stopped" }).AgentMay(AgentBinding.RouteId);

        var tasks = v1.MapGroup("/tasks").WithTags("Workers");
        // An agent credential reports only for the agents it is bound to; the task grain checks that agent holds the task.
        TaskEndpoints.Change(tasks, "start", "StartTask", "Mark an assigned task as running (as the agent holding it; repeating it answers the running task)", ApiExamples.Start, StartAsync)
            .AgentMay(AgentBinding.Endpoint);
        TaskEndpoints.Change(tasks, "heartbeat", "TaskHeartbeat", "The worker still runs this attempt: keeps the agent alive; 409 once the attempt is over", ApiExamples.Heartbeat, HeartbeatAsync)
            .AgentMay(AgentBinding.Endpoint);
        TaskEndpoints.Change(tasks, "complete", "CompleteTask", "Complete a running task (as the agent holding it; repeating it is a no-op)", ApiExamples.Complete, CompleteAsync)
            .AgentMay(AgentBinding.Endpoint);
        TaskEndpoints.Change(tasks, "fail", "FailTask", "Fail a running task (retried while attempts remain; repeating it is a no-op)", ApiExamples.Fail, FailAsync)
            .AgentMay(AgentBinding.Endpoint);
        TaskEndpoints.Change(tasks, "handback", "HandBackTask", "Give the task back without failing the attempt: it goes back to pending (a no-op once the agent no longer holds it)",
            ApiExamples.HandBack, HandBackAsync).AgentMay(AgentBinding.Endpoint);
    }

    private static async Task<IResult> NextAsync(string id, string? worker, string? wait, HttpWorkerSessions sessions, HttpContext http)
    {
        var workerId = Worker(worker);
        var waitFor = Wait(wait);
        var session = await sessions.OpenAsync(id, workerId);
        http.Response.Headers[HeartbeatHeader] = Math.Max(1, (int)sessions.RenewEvery.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var task = await session.NextAsync(waitFor, http.RequestAborted);
        return task is null ? TypedResults.NoContent() : TypedResults.Ok(task);
    }

    private static async Task<TaskSnapshot> StartAsync(
        string id, StartRequest body, INoOrgClient api, IGrainFactory grains, HttpWorkerSessions sessions, HttpContext http)
    {
        var agentId = ActsFor(http, body.AgentId);
        ThrowIfInvalid("start", AttemptRule.Problem("attempt", body.Attempt));
        TaskSnapshot started;
        if (body.Attempt is { } attempt)
        {
            started = await Attempts(grains, id).StartAttemptAsync(agentId, attempt); // checked and started in one turn
        }
        else
        {
            try
            {
                started = await api.Tasks.StartAsync(id, agentId);
            }
            catch (InvalidTransitionException)
            {
                started = await api.Tasks.GetAsync(id);
                if (!AttemptRule.IsRepeatedStart(started, agentId, null))
                {
                    throw;
                }
            }
        }

        sessions.Runs(agentId, id, started.Attempt);
        return started;
    }

    private static async Task<TaskSnapshot> HeartbeatAsync(string id, TaskHeartbeatRequest body, INoOrgClient api, HttpWorkerSessions sessions, HttpContext http)
    {
        var agentId = ActsFor(http, body.AgentId);
        ThrowIfInvalid("heartbeat", AttemptRule.Problem("attempt", body.Attempt));
        var task = await api.Tasks.GetAsync(id);
        try
        {
            AttemptRule.EnsureRunning(task, agentId, body.Attempt);
        }
        catch (InvalidTransitionException)
        {
            sessions.Done(agentId, id);
            throw;
        }

        if (!sessions.Runs(agentId, id, body.Attempt))
        {
            await api.Agents.HeartbeatAsync(agentId); // its session is on another silo, or gone: keep the agent alive all the same
        }

        return task;
    }

    private static async Task<TaskSnapshot> CompleteAsync(
        string id, CompleteRequest body, INoOrgClient api, IGrainFactory grains, HttpWorkerSessions sessions, HttpContext http)
    {
        var agentId = ActsFor(http, body.AgentId);
        ThrowIfInvalid("completion", AttemptRule.Problem("attempt", body.Attempt));
        var completed = body.Attempt is { } attempt
            ? await Attempts(grains, id).CompleteAttemptAsync(agentId, attempt, body.ResultJson, body.ProcessingTime)
            : await api.Tasks.CompleteAsync(id, agentId, body.ResultJson, body.ProcessingTime);
        sessions.Done(agentId, id);
        return completed;
    }

    private static async Task<TaskSnapshot> FailAsync(
        string id, FailRequest body, INoOrgClient api, IGrainFactory grains, HttpWorkerSessions sessions, HttpContext http)
    {
        var agentId = ActsFor(http, body.AgentId);
        ThrowIfInvalid("failure", AttemptRule.Problem("attempt", body.Attempt));
        var failed = body.Attempt is { } attempt
            ? await Attempts(grains, id).FailAttemptAsync(agentId, attempt, body.Error)
            : await api.Tasks.FailAsync(id, agentId, body.Error);
        sessions.Done(agentId, id);
        return failed;
    }

    private static async Task<TaskSnapshot> HandBackAsync(string id, HandBackRequest body, IGrainFactory grains, HttpWorkerSessions sessions, HttpContext http)
    {
        var agentId = ActsFor(http, body.AgentId);
        ThrowIfInvalid("hand-back", AttemptRule.Problem("attempt", body.Attempt));
        sessions.Done(agentId, id);
        return await Attempts(grains, id).HandBackAttemptAsync(
            agentId, body.Attempt, $"handed back by agent {agentId}: {body.Reason}", ApiEndpoints.Actor(http));
    }

    /// <summary>The task's attempt-checked reports: the check and the change in one turn of the task grain.</summary>
    private static ITaskAttemptGrain Attempts(IGrainFactory grains, string id) =>
        grains.GetGrain<ITaskAttemptGrain>(InputText.RequireId("taskId", id));

    private static string ActsFor(HttpContext http, string agentId)
    {
        ApiAccess.EnsureActsFor(http, agentId);
        return agentId;
    }

    private static string Worker(string? worker)
    {
        ThrowIfInvalid("poll", string.IsNullOrEmpty(worker)
            ? "worker: required; the id this worker process chose for itself at start (for example a random hex string)"
            : InputText.IdProblem("worker", worker));
        return worker!;
    }

    /// <summary>Seconds, as <c>30</c> or <c>30s</c>, from 0 (answer at once) to <see cref="HttpWorkerSessions.MaxWait"/>.</summary>
    private static TimeSpan Wait(string? wait)
    {
        if (string.IsNullOrEmpty(wait))
        {
            return DefaultWait;
        }

        var text = wait.EndsWith('s') ? wait[..^1] : wait;
        if (text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds <= HttpWorkerSessions.MaxWait.TotalSeconds)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        throw new ValidationException("Invalid poll", [$"wait: must be whole seconds from 0 to {HttpWorkerSessions.MaxWait.TotalSeconds:0}, as 30 or 30s (got '{wait}')"]);
    }

    private static void ThrowIfInvalid(string what, string? problem)
    {
        if (problem is not null)
        {
            throw new ValidationException($"Invalid {what}", [problem]);
        }
    }
}
