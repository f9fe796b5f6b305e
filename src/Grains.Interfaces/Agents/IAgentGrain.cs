using NoOrg.Grains.Security;
using NoOrg.Grains.Health;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;

namespace NoOrg.Grains.Agents;

/// <summary>One agent: its registration, status, the tasks it holds, and its history. Keyed by agent id.</summary>
[Alias("noorg.agents.agent")]
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>Registers the agent; the same details again are a no-op, different details a <see cref="Errors.ConflictException"/>.</summary>
    [Alias("register"), AgentMay(AgentScope.GrainKey)] Task<AgentSnapshot> RegisterAsync(AgentRegistration registration);

    [Alias("update"), AgentMay(AgentScope.GrainKey)] Task<AgentSnapshot> UpdateAsync(AgentUpdate update);

    /// <summary>Removes the agent; the tasks it held go back to be reassigned.</summary>
    [Alias("unregister"), AgentMay(AgentScope.GrainKey)] Task UnregisterAsync(string reason);

    /// <summary>Null when no agent with this id is registered.</summary>
    [Alias("get"), AgentMay(AgentScope.GrainKey)] Task<AgentSnapshot?> GetAsync();

    /// <summary>The agent is alive; an offline agent becomes available again.</summary>
    [Alias("heartbeat"), AgentMay(AgentScope.GrainKey)] Task<AgentSnapshot> HeartbeatAsync();

    /// <summary>Operator or worker sets draining, offline or error (or back to available).</summary>
    [Alias("set-status"), AgentMay(AgentScope.GrainKey)] Task<AgentSnapshot> SetStatusAsync(AgentStatus status, string reason);

    /// <summary>Newest first.</summary>
    [Alias("history"), AgentMay(AgentScope.GrainKey)] Task<Page<AgentEvent>> GetHistoryAsync(int skip, int take);

    /// <summary>Pushes this agent's changes to <paramref name="watcher"/> for a minute (call again to renew); answers the sequence so far.</summary>
    [Alias("watch"), Requires(AccessRole.Reader)] Task<Watching.WatchPoint> WatchAsync(Watching.IAgentWatcher watcher);

    [Alias("unwatch"), Requires(AccessRole.Reader)] Task UnwatchAsync(Watching.IAgentWatcher watcher);

    /// <summary>The worker process behind this agent connects to receive assigned tasks; call again to stay connected.</summary>
    [Alias("connect"), AgentMay(AgentScope.GrainKey)] Task<IReadOnlyList<TaskSnapshot>> ConnectAsync(IAgentWorker worker);

    /// <summary>
    /// As <see cref="ConnectAsync(IAgentWorker)"/>, for a worker that says which tasks it is running: only the other
    /// tasks the agent holds are read and sent back, so a reconnect costs one index query, not a call per task.
    /// </summary>
    [Alias("connect-running"), AgentMay(AgentScope.GrainKey)] Task<IReadOnlyList<TaskSnapshot>> ConnectAsync(IAgentWorker worker, IReadOnlyList<string> running);

    [Alias("disconnect"), AgentMay(AgentScope.GrainKey)] Task DisconnectAsync(IAgentWorker worker);

    /// <summary>Dispatch: takes the task if the agent can (capable, accepting work, below its limit).</summary>
    [Alias("try-reserve"), Requires(AccessRole.Admin)] Task<bool> TryReserveAsync(string taskId, IReadOnlyList<string> requiredCapabilities);

    /// <summary>The task left this agent (finished, failed, cancelled, unassigned).</summary>
    [Alias("release"), Requires(AccessRole.Admin)] Task ReleaseAsync(string taskId);

    /// <summary>The task was taken from this agent by someone else (cancelled, unassigned, reassigned, timed out):
    /// released as by <see cref="ReleaseAsync"/>, and connected workers are told to stop working on it.</summary>
    [Alias("revoke"), Requires(AccessRole.Admin)] Task RevokeAsync(string taskId, string reason);

    /// <summary>Pushes an assigned task to the connected worker, if any.</summary>
    [Alias("deliver"), Requires(AccessRole.Admin)] Task DeliverAsync(TaskSnapshot task);

    /// <summary>Health monitoring: the agent's liveness facts.</summary>
    [Alias("liveness"), Requires(AccessRole.Admin)] Task<AgentLiveness> GetLivenessAsync();

    /// <summary>Health monitoring: applies the monitor's verdict (health, hand-back of held tasks, offline).</summary>
    [Alias("apply-health"), Requires(AccessRole.Admin)] Task ApplyHealthAsync(AgentHealthVerdict verdict);
}

/// <summary>Implemented by a worker process; the agent grain pushes assigned tasks to it.</summary>
[Alias("noorg.agents.worker")]
public interface IAgentWorker : IGrainObserver
{
    [Alias("task-assigned"), OneWay] Task TaskAssigned(TaskSnapshot task);

    [Alias("task-revoked"), OneWay] Task TaskRevoked(string taskId, string reason);
}

/// <summary>Discovery over every registered agent, answered from the registry index (never by calling agents).</summary>
[Alias("noorg.agents.registry")]
public interface IAgentRegistryGrain : IGrainWithIntegerKey
{
    [Alias("find")] Task<Page<AgentSummary>> FindAsync(AgentQuery query);

    [Alias("counts")] Task<AgentCounts> CountAsync();

    [Alias("capabilities"), Requires(AccessRole.Reader)] Task<IReadOnlyList<string>> CapabilitiesAsync();
}
