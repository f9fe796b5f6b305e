namespace NoOrg.Grains.Agents;

/// <summary>
/// What an agent grain keeps durably, apart from its history (so a heartbeat writes a small row). After
/// unregistering, a tombstone remains: no registration, the version (so the index only ever moves forward) and
/// the tasks still to be handed back.
/// </summary>
[GenerateSerializer, Alias("noorg.agents.agent-state")]
public sealed record AgentState
{
    /// <summary>Normalised; null when the agent is not registered.</summary>
    [Id(0)] public AgentRegistration? Registration { get; init; }
    [Id(1)] public AgentStatus Status { get; init; }
    [Id(2)] public string? StatusReason { get; init; }
    [Id(3)] public IReadOnlyList<string> ActiveTaskIds { get; init; } = [];
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
}

[GenerateSerializer, Immutable, Alias("noorg.agents.hand-back")]
public sealed record HandBack(string TaskId, string Reason, int Attempts = 0);

/// <summary>The newest events of an agent, and how many there have been since it registered.</summary>
[GenerateSerializer, Alias("noorg.agents.history-state")]
public sealed record AgentHistoryState
{
    [Id(0)] public long Count { get; init; }
    [Id(1)] public IReadOnlyList<AgentEvent> Recent { get; init; } = [];
}
