using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// An HTTP worker's report names the attempt it is about (the <c>attempt</c> of the last snapshot it got): a report of
/// an attempt that is over (timed out, handed back, reassigned, cancelled, a later attempt started) is refused with an
/// <see cref="InvalidTransitionException"/> and changes nothing, so a late or repeated report is never applied to
/// another attempt. The task grain applies it in the same turn as the change (<see cref="ITaskAttemptGrain"/>), so no
/// attempt can end and another begin between the check and the change.
/// </summary>
public static class AttemptRule
{
    /// <summary>Throws unless the agent holds the task in <paramref name="attempt"/>.</summary>
    public static void EnsureCurrent(TaskSnapshot task, string agentId, int attempt, string action)
    {
        if (!string.Equals(task.AssignedTo, agentId, StringComparison.Ordinal) || task.Attempt != attempt)
        {
            throw Over(task, agentId, attempt, action);
        }
    }

    /// <summary>Throws unless the agent runs the task in <paramref name="attempt"/> (a heartbeat).</summary>
    public static void EnsureRunning(TaskSnapshot task, string agentId, int attempt)
    {
        EnsureCurrent(task, agentId, attempt, "heartbeat");
        if (task.State != TaskState.Running)
        {
            throw Over(task, agentId, attempt, "heartbeat");
        }
    }

    /// <summary>
    /// A start whose answer was lost, sent again: the task runs, held by the agent, in the attempt that start began
    /// (<paramref name="attempt"/> is the assigned snapshot's, the start makes it one more). Without an attempt, any
    /// running attempt of the agent counts.
    /// </summary>
    public static bool IsRepeatedStart(TaskSnapshot task, string agentId, int? attempt) =>
        task.State == TaskState.Running && string.Equals(task.AssignedTo, agentId, StringComparison.Ordinal)
        && (attempt is null || task.Attempt == attempt + 1);

    public static string? Problem(string field, int? attempt) =>
        attempt is < 0 ? $"{field}: must be 0 or more (the attempt of the task as the worker last got it; got {attempt})" : null;

    private static InvalidTransitionException Over(TaskSnapshot task, string agentId, int attempt, string action) => new(
        $"Task {task.Id} is {task.State} in attempt {task.Attempt}, held by {task.AssignedTo ?? "no agent"}: "
        + $"the {action} of attempt {attempt} by agent {agentId} is refused and nothing changed. That attempt is over; stop working on it.");
}

/// <summary>
/// Silo-internal: an agent's reports that name the attempt they are about (the HTTP worker protocol). Each checks the
/// attempt and makes the change in one turn of the task grain, so a late report can never land on a later attempt.
/// </summary>
[Alias("noorg.tasks.attempt-reports"), NoOrg.Grains.Security.Requires(NoOrg.Grains.Security.AccessRole.Admin)]
public interface ITaskAttemptGrain : IGrainWithStringKey
{
    /// <summary>Starts the attempt after <paramref name="assignedAttempt"/> (the assigned snapshot's); a repeated start answers the running task.</summary>
    [Alias("start-attempt")] Task<TaskSnapshot> StartAttemptAsync(string agentId, int assignedAttempt);

    [Alias("complete-attempt")] Task<TaskSnapshot> CompleteAttemptAsync(string agentId, int attempt, string resultJson, TimeSpan? processingTime);

    [Alias("fail-attempt")] Task<TaskSnapshot> FailAttemptAsync(string agentId, int attempt, string error);

    /// <summary>Back to pending; a task the agent no longer holds (handed back already, or finished) is answered unchanged.</summary>
    [Alias("hand-back-attempt")] Task<TaskSnapshot> HandBackAttemptAsync(string agentId, int attempt, string reason, string actor);
}
