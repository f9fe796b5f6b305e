using NoOrg.Grains.Security;
using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// One task: its spec, lifecycle and full history. Keyed by task id. Every change is durable before the call
/// returns; an illegal transition throws <see cref="Errors.InvalidTransitionException"/> and changes nothing. Its events
/// leave through its outbox (<see cref="IOutboxGrain"/>); notices from its dependencies come in through it too
/// (<see cref="IOutboxReceiver"/>).
/// </summary>
[Alias("noorg.tasks.task")]
public interface ITaskGrain : IGrainWithStringKey, IOutboxGrain, IOutboxReceiver
{
    /// <summary>Creates the task; calling again with the same spec returns it, with a different spec is a conflict.</summary>
    [Alias("create")] Task<TaskSnapshot> CreateAsync(TaskSpec spec, string actor);

    /// <summary>Null when no task with this id exists.</summary>
    [Alias("get"), AgentMay(AgentScope.AssignedTask)] Task<TaskSnapshot?> GetAsync();

    [Alias("update")] Task<TaskSnapshot> UpdateAsync(TaskUpdate update, string actor);

    [Alias("assign")] Task<TaskSnapshot> AssignAsync(string agentId, string actor);

    /// <summary>Back to pending, to be dispatched again.</summary>
    [Alias("unassign")] Task<TaskSnapshot> UnassignAsync(string reason, string actor);

    [Alias("reassign")] Task<TaskSnapshot> ReassignAsync(string agentId, string reason, string actor);

    [Alias("start"), AgentMay(AgentScope.AgentIdArgument)] Task<TaskSnapshot> StartAsync(string agentId);

    /// <summary>Idempotent for the agent that holds the task: a repeated completion returns the completed task.</summary>
    [Alias("complete"), AgentMay(AgentScope.AgentIdArgument)] Task<TaskSnapshot> CompleteAsync(string agentId, string resultJson, TimeSpan? processingTime);

    /// <summary>Retried with back-off while attempts remain, otherwise failed for good.</summary>
    [Alias("fail"), AgentMay(AgentScope.AgentIdArgument)] Task<TaskSnapshot> FailAsync(string agentId, string error);

    [Alias("cancel")] Task<TaskSnapshot> CancelAsync(string reason, string actor);

    /// <summary>Oldest first.</summary>
    [Alias("history")] Task<Page<TaskEvent>> GetHistoryAsync(int skip, int take);

    /// <summary>Pushes this task's changes to <paramref name="watcher"/> for a minute (call again to renew); answers the sequence so far.</summary>
    [Alias("watch"), Requires(AccessRole.Reader)] Task<Watching.WatchPoint> WatchAsync(Watching.ITaskWatcher watcher);

    [Alias("unwatch"), Requires(AccessRole.Reader)] Task UnwatchAsync(Watching.ITaskWatcher watcher);

    /// <summary>Another task depends on this one: it is told when this one finishes. Returns this task's state now.</summary>
    [Alias("add-dependent"), Requires(AccessRole.Admin)] Task<TaskState> AddDependentAsync(string dependentId);

    /// <summary>A dependency of this task completed (or failed for good, which fails this task). Idempotent.</summary>
    [Alias("dependency-finished"), Requires(AccessRole.Admin)] Task DependencyFinishedAsync(string dependencyId, TaskState outcome);

    /// <summary>The holding agent went away (unregistered, offline): retry or fail under the task's policy.</summary>
    [Alias("agent-lost"), Requires(AccessRole.Admin)] Task AgentLostAsync(string agentId, string reason);

    /// <summary>Dispatch could not place the task; recorded so the caller can see why.</summary>
    [Alias("unassignable"), Requires(AccessRole.Admin)] Task NoteUnassignableAsync(string reason);

    /// <summary>Removes a terminal task's state (retention clean-up). Returns false if the task is not terminal.</summary>
    [Alias("purge"), Requires(AccessRole.Admin)] Task<bool> PurgeAsync();
}
