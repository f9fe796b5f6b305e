using System.Globalization;

namespace NoOrg.Grains.Tasks;

/// <summary>A change of a task: the task after it, and the history entry that records it.</summary>
internal readonly record struct TaskChange(TaskSnapshot Next, TaskEvent Event);

/// <summary>
/// The task lifecycle's decisions as pure code: from the task as it is, the time and the sequence number of the next
/// history entry, what each change makes of the task and how its history entry reads. <see cref="TaskGrain"/> checks
/// the call (state, holder, input), then writes what these return and runs the effects.
/// </summary>
internal readonly record struct TaskChanges(TaskSnapshot Current, DateTimeOffset Now, long Sequence)
{
    /// <summary>The actor of changes nobody asked for (time-outs, deadlines, lost agents, dependencies).</summary>
    public const string SystemActor = "system";

    /// <summary>The actor of the dispatcher's notes.</summary>
    public const string DispatcherActor = "dispatcher";

    /// <summary>A new task, pending, numbered <paramref name="sequence"/>: its entry says what it waits on, if anything.</summary>
    public static TaskChange Created(TaskSnapshot task, long sequence, string actor) => new(
        task,
        new TaskEvent(task.Id, sequence, task.CreatedAt, TaskAction.Created, TaskState.Pending, TaskState.Pending, actor,
            task.WaitingOn.Count == 0 ? null : $"waiting on {string.Join(", ", task.WaitingOn)}", null, null));

    /// <summary>The spec as an update left it; its entry names the fields that changed.</summary>
    public TaskChange Update(TaskSpec spec, IReadOnlyList<string> changed, string actor) => new(
        Bumped with { Spec = spec },
        Event(TaskAction.Updated, Current.State, actor, "changed " + string.Join(", ", changed)));

    public TaskChange Assign(string agentId, string actor) => new(
        Bumped with { State = TaskState.Assigned, AssignedTo = agentId, StartedAt = null, NextAttemptAt = null, UnassignableReason = null },
        Event(TaskAction.Assigned, TaskState.Assigned, actor, toAgent: agentId));

    public TaskChange Reassign(string agentId, string reason, string actor) => new(
        Bumped with { State = TaskState.Assigned, AssignedTo = agentId, StartedAt = null, UnassignableReason = null },
        Event(TaskAction.Reassigned, TaskState.Assigned, actor, reason, Current.AssignedTo, agentId));

    public TaskChange Unassign(string reason, string actor) => new(
        Bumped with { State = TaskState.Pending, AssignedTo = null, StartedAt = null, NextAttemptAt = null },
        Event(TaskAction.Unassigned, TaskState.Pending, actor, reason, fromAgent: Current.AssignedTo));

    /// <summary>The holder starts the next attempt.</summary>
    public TaskChange Start(string agentId)
    {
        var attempt = Current.Attempt + 1;
        return new(
            Bumped with { State = TaskState.Running, Attempt = attempt, StartedAt = Now },
            Event(TaskAction.Started, TaskState.Running, agentId, $"attempt {attempt} of {Current.Spec.MaxAttempts}", toAgent: agentId));
    }

    /// <summary>The holder's result; without a processing time of its own, the time since the attempt started.</summary>
    public TaskChange Complete(string agentId, string resultJson, TimeSpan? processingTime) => new(
        Bumped with
        {
            State = TaskState.Completed,
            FinishedAt = Now,
            ResultJson = resultJson,
            Error = null,
            NextAttemptAt = null,
            ProcessingTime = processingTime ?? (Now - (Current.StartedAt ?? Now)),
        },
        Event(TaskAction.Completed, TaskState.Completed, agentId, fromAgent: agentId));

    /// <summary>The holder's failure report: retried or failed for good, as <see cref="RetryOrFail"/> decides.</summary>
    public TaskChange Fail(string agentId, string error) => RetryOrFail(TaskAction.Failed, error, agentId);

    public TaskChange Cancel(string reason, string actor) => new(
        Bumped with { State = TaskState.Cancelled, FinishedAt = Now, NextAttemptAt = null },
        Event(TaskAction.Cancelled, TaskState.Cancelled, actor, reason, fromAgent: Holder(Current)));

    /// <summary>
    /// A dependency finished: a completed one is no longer waited on, a failed or cancelled one fails the task; null
    /// when the task does not wait on it (a notice repeated, or for a task it does not depend on).
    /// </summary>
    public TaskChange? DependencyFinished(string dependencyId, TaskState outcome)
    {
        if (outcome == TaskState.Completed && Current.WaitingOn.Contains(dependencyId, StringComparer.Ordinal))
        {
            return new(
                Bumped with { WaitingOn = [.. Current.WaitingOn.Where(d => d != dependencyId)] },
                Event(TaskAction.DependencySatisfied, Current.State, SystemActor, $"dependency {dependencyId} completed"));
        }

        if (outcome is TaskState.Failed or TaskState.Cancelled && (Current.Spec.DependsOn ?? []).Contains(dependencyId, StringComparer.Ordinal))
        {
            var error = outcome == TaskState.Failed ? $"dependency {dependencyId} failed" : $"dependency {dependencyId} was cancelled";
            return new(
                Bumped with { State = TaskState.Failed, FinishedAt = Now, Error = error, NextAttemptAt = null },
                Event(TaskAction.Failed, TaskState.Failed, SystemActor, error, fromAgent: Holder(Current)));
        }

        return null;
    }

    /// <summary>The holder is gone: a task it had not started goes straight back to pending (no attempt was spent); a running one is retried or failed.</summary>
    public TaskChange AgentLost(string agentId, string reason)
    {
        var cause = $"agent {agentId} lost: {reason}";
        return Current.State == TaskState.Assigned
            ? new(
                Bumped with { State = TaskState.Pending, AssignedTo = null, StartedAt = null, NextAttemptAt = null, Error = cause },
                Event(TaskAction.AgentLost, TaskState.Pending, SystemActor, cause + "; not started, back to pending", agentId))
            : RetryOrFail(TaskAction.AgentLost, cause, SystemActor);
    }

    /// <summary>
    /// When <paramref name="task"/> next needs looking at by itself: the running attempt's time-out or the deadline,
    /// whichever comes first; null when it has neither (or is finished). Stored with every write, so the due shards
    /// find it with one indexed query (<see cref="TaskDueShardGrain"/>).
    /// </summary>
    public static DateTimeOffset? DueAt(TaskSnapshot task)
    {
        if (task.IsTerminal)
        {
            return null;
        }

        DateTimeOffset? timeout = task is { State: TaskState.Running, StartedAt: { } started, Spec.Timeout: { } limit } ? started + limit : null;
        return (timeout, task.Spec.Deadline) switch
        {
            ({ } t, { } d) => t < d ? t : d,
            ({ } t, null) => t,
            (null, var d) => d,
        };
    }

    /// <summary>What is due now: the running attempt's time-out first (it may leave attempts), then the deadline; null when neither is.</summary>
    public TaskChange? Due(TimeSpan tolerance) => TimeOut(tolerance) ?? DeadlineExceeded();

    /// <summary>The running attempt ran past the spec's time-out; null while it has not (allowing <paramref name="tolerance"/> for an early timer).</summary>
    public TaskChange? TimeOut(TimeSpan tolerance) =>
        Current is { State: TaskState.Running, StartedAt: { } started, Spec.Timeout: { } timeout } && Now + tolerance >= started + timeout
            ? RetryOrFail(TaskAction.TimedOut, $"timed out after {Seconds(timeout)}", SystemActor)
            : null;

    /// <summary>The spec's deadline passed before the task finished: failed, whatever attempts remain; null before the deadline.</summary>
    public TaskChange? DeadlineExceeded()
    {
        if (Current.IsTerminal || Current.Spec.Deadline is not { } deadline || Now < deadline)
        {
            return null;
        }

        var error = $"deadline exceeded at {deadline:O}";
        return new(
            Bumped with { State = TaskState.Failed, FinishedAt = Now, Error = error, NextAttemptAt = null },
            Event(TaskAction.DeadlineExceeded, TaskState.Failed, SystemActor, error, Holder(Current)));
    }

    /// <summary>
    /// Why dispatch cannot place the task. <see cref="TaskChange.Next"/> is the task with the reason and a new
    /// version, for when the note is written as a change of its own; held in memory, the task keeps its version.
    /// </summary>
    public TaskChange Unassignable(string reason) => new(
        Bumped with { UnassignableReason = reason },
        Event(TaskAction.Unassignable, Current.State, DispatcherActor, reason));

    /// <summary>A failed attempt: back to pending after the back-off while attempts remain, otherwise failed for good.</summary>
    public TaskChange RetryOrFail(TaskAction cause, string error, string actor)
    {
        var attempt = Current.Attempt;
        var max = Current.Spec.MaxAttempts;
        if (attempt < max)
        {
            var delay = RetryPolicy.Delay(Current.Spec.RetryBackoff, Math.Max(1, attempt));
            DateTimeOffset? at = delay > TimeSpan.Zero ? Now + delay : null;
            var when = at is { } t ? $"next attempt at {t:O} (after {Seconds(delay)})" : "next attempt now";
            var action = cause == TaskAction.Failed ? TaskAction.RetryScheduled : cause;
            return new(
                Bumped with { State = TaskState.Pending, AssignedTo = null, StartedAt = null, NextAttemptAt = at, Error = error },
                Event(action, TaskState.Pending, actor, $"{error}; attempt {attempt} of {max} failed, {when}", Current.AssignedTo));
        }

        return new(
            Bumped with { State = TaskState.Failed, FinishedAt = Now, Error = error, NextAttemptAt = null },
            Event(cause, TaskState.Failed, actor, $"{error}; no attempts left ({attempt} of {max})", Current.AssignedTo));
    }

    /// <summary>The agent that holds the task, if any.</summary>
    public static string? Holder(TaskSnapshot task) => task.State is TaskState.Assigned or TaskState.Running ? task.AssignedTo : null;

    private TaskSnapshot Bumped => Current with { Version = Current.Version + 1, UpdatedAt = Now };

    private TaskEvent Event(TaskAction action, TaskState to, string actor, string? reason = null, string? fromAgent = null, string? toAgent = null) =>
        new(Current.Id, Sequence, Now, action, Current.State, to, actor, reason, fromAgent, toAgent);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
