using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// The task lifecycle as data: each action and the states it may start from. Where it leads is decided by the
/// action itself (see docs/tasks.md for the whole table).
/// </summary>
internal sealed record TaskTransition(string Action, params TaskState[] From)
{
    public static readonly TaskTransition Assign = new("assign", TaskState.Pending);
    public static readonly TaskTransition Start = new("start", TaskState.Assigned);
    public static readonly TaskTransition Complete = new("complete", TaskState.Running);
    public static readonly TaskTransition Fail = new("fail", TaskState.Running);
    public static readonly TaskTransition Unassign = new("unassign", TaskState.Assigned, TaskState.Running);
    public static readonly TaskTransition Reassign = new("reassign", TaskState.Assigned, TaskState.Running);
    public static readonly TaskTransition Cancel = new("cancel", TaskState.Pending, TaskState.Assigned, TaskState.Running);
    public static readonly TaskTransition Update = new("update", TaskState.Pending, TaskState.Assigned, TaskState.Running);

    public bool AllowedFrom(TaskState state) => From.Contains(state);

    /// <summary>Throws <see cref="InvalidTransitionException"/> naming the task, its state, the action and what is allowed.</summary>
    public void Ensure(TaskSnapshot task)
    {
        if (!AllowedFrom(task.State))
        {
            var finished = task.IsTerminal ? " A finished task accepts no further change." : "";
            throw new InvalidTransitionException(
                $"Task {task.Id} is {task.State}: cannot {Action} it; {Action} is allowed only when the task is {string.Join(" or ", From)}.{finished}");
        }
    }

    /// <summary>Start, complete and fail belong to the agent holding the task.</summary>
    public void EnsureHolder(TaskSnapshot task, string agentId)
    {
        if (!string.Equals(task.AssignedTo, agentId, StringComparison.Ordinal))
        {
            throw new InvalidTransitionException(
                $"Task {task.Id} is {task.State} and held by agent {task.AssignedTo ?? "(none)"}: only that agent can {Action} it, not {agentId}.");
        }
    }
}
