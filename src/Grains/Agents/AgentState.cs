using System.Text.Json.Serialization;

namespace NoOrg.Grains.Agents;

/// <summary>
/// What an agent grain keeps durably: one row, with only the newest change's events (the history itself is rows
/// the database appends), and the tasks it holds in memory. After unregistering, a tombstone remains: no registration, the version and the tasks
/// still to be handed back.
/// </summary>
[GenerateSerializer, Alias("noorg.agents.agent-state")]
public sealed record AgentState
{
    /// <summary>Normalised; null when the agent is not registered.</summary>
    [Id(0)] public AgentRegistration? Registration { get; init; }
    [Id(1)] public AgentStatus Status { get; init; }
    [Id(2)] public string? StatusReason { get; init; }
    /// <summary>
    /// The tasks the agent holds, in memory only: the task's own write is what makes a hold durable (one write per
    /// assignment). An activation rebuilds it from the task index, and the database counts the load for the
    /// registry index from the task writes (migration 0018_agent_load).
    /// </summary>
    [Id(3), JsonIgnore] public IReadOnlyList<string> ActiveTaskIds { get; init; } = [];
    [Id(4)] public DateTimeOffset RegisteredAt { get; init; }
    [Id(5)] public DateTimeOffset UpdatedAt { get; init; }
    [Id(6)] public DateTimeOffset? LastHeartbeatAt { get; init; }

    /// <summary>The last sign of life the heartbeat timeout counts from: registration, heartbeat, or an operator's "available".</summary>
    [Id(7)] public DateTimeOffset LastSeenAt { get; init; }
    [Id(8)] public long Version { get; init; }

    /// <summary>Tasks taken from this agent whose task grains have not yet been told (an outbox, retried by the reminder).</summary>
    [Id(9)] public IReadOnlyList<HandBack> HandBacks { get; init; } = [];

    /// <summary>Decided by the agent's health monitor (<see cref="Health.AgentHealthGrain"/>); an unhealthy agent takes no new task.</summary>
    [Id(10)] public Grains.Health.HealthStatus Health { get; init; }
    [Id(11)] public string? HealthReason { get; init; }

    /// <summary>When a worker last connected or renewed its connection; null for an agent driven through the API alone.</summary>
    [Id(12)] public DateTimeOffset? LastWorkerContactAt { get; init; }

    /// <summary>
    /// Offline with nothing to do: the liveness reminder was dropped (and the health monitor is quiet) until the
    /// agent comes back, so an idle offline agent costs no timer, reminder or activation.
    /// </summary>
    [Id(13)] public bool Quiet { get; init; }

    /// <summary>
    /// The events of the change this state was written for. The database appends them to the agent's history
    /// (noorg_agent_events) in the same statement, so a change and its history entries commit together and the
    /// history is never rewritten.
    /// </summary>
    [Id(14)] public IReadOnlyList<AgentEvent> NewEvents { get; init; } = [];

    /// <summary>Events recorded since the agent registered: the last event's sequence number.</summary>
    [Id(15)] public long EventCount { get; init; }

    /// <summary>How many of the newest events the database keeps (<c>NOORG_AGENTS_HISTORY_LIMIT</c> when written).</summary>
    [Id(16)] public int HistoryLimit { get; init; }
}

[GenerateSerializer, Immutable, Alias("noorg.agents.hand-back")]
public sealed record HandBack(string TaskId, string Reason, int Attempts = 0);
