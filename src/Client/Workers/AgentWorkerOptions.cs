using NoOrg.Grains.Agents;

namespace NoOrg.Client.Workers;

/// <summary>Who the worker is as an agent, and how it keeps in touch with the cluster.</summary>
public sealed class AgentWorkerOptions
{
    /// <summary>The agent id; stable across restarts of the worker so it resumes its own tasks.</summary>
    public string AgentId { get; set; } = "";

    public AgentRegistration Registration { get; set; } = new("", "", "", [], 1, new Dictionary<string, string>());

    /// <summary>How often the worker reconnects (which is also its heartbeat); keep it well under the heartbeat timeout.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After the client loses a gateway (a silo went away, maybe with this agent's grain), the worker reconnects every
    /// second for this long, so a reactivated agent grain learns of it within a second of coming back. Zero turns it off.
    /// </summary>
    public TimeSpan ReconnectBurst { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A slot that has failed to start or report its task for this long, or a connection that has failed for this
    /// long, makes the worker unhealthy (<see cref="AgentWorkerHealthCheck"/>). The worker keeps retrying either way.
    /// </summary>
    public TimeSpan StalledAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between two attempts of a failing call (the first waits 200 ms, each next one twice as long).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What the agent becomes when this process stops gracefully (the host stops: Ctrl+C, SIGTERM). Either way the
    /// handlers' tokens are cancelled first. A crash does none of this: the agent stays registered until its heartbeat
    /// times out, is then reported unhealthy, and hands its tasks back after the health grace period.
    /// </summary>
    public WorkerShutdown OnShutdown { get; set; } = WorkerShutdown.GoOffline;
}

/// <summary>The agent after a graceful stop of its worker.</summary>
public enum WorkerShutdown
{
    /// <summary>Offline at once, handing back the tasks it holds (they go to other agents); the next start brings it back.</summary>
    GoOffline,

    /// <summary>Unregistered: gone from the registry, its tasks handed back. For workers that never come back under this id.</summary>
    Unregister,

    /// <summary>Left as it is, holding its tasks for this worker to resume when it restarts within the heartbeat timeout.</summary>
    StayRegistered,
}

/// <summary>What the application does with a task. Return the result as JSON; throw to fail the attempt.</summary>
public interface IAgentTaskHandler
{
    Task<string> HandleAsync(Grains.Tasks.TaskSnapshot task, CancellationToken cancellationToken);
}
