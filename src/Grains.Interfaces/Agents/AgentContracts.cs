using NoOrg.Grains.Health;

namespace NoOrg.Grains.Agents;

public enum AgentStatus { Available, Busy, Draining, Offline, Error }

/// <summary>What an agent says about itself when it registers.</summary>
[GenerateSerializer, Immutable, Alias("noorg.agents.registration")]
public sealed record AgentRegistration(
    string Name,
    string Type,
    string Description,
    IReadOnlyList<string> Capabilities,
    int MaxConcurrentTasks,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>A change to a registered agent; null fields stay as they are.</summary>
[GenerateSerializer, Immutable, Alias("noorg.agents.update")]
public sealed record AgentUpdate(
    string? Name = null,
    string? Description = null,
    IReadOnlyList<string>? Capabilities = null,
    int? MaxConcurrentTasks = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

[GenerateSerializer, Immutable, Alias("noorg.agents.snapshot")]
public sealed record AgentSnapshot(
    string Id,
    AgentRegistration Registration,
    AgentStatus Status,
    string? StatusReason,
    IReadOnlyList<string> ActiveTaskIds,
    DateTimeOffset RegisteredAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastHeartbeatAt,
    long Version,
    HealthStatus Health = HealthStatus.Healthy);

public enum AgentEventKind { Registered, Updated, StatusChanged, Heartbeat, TaskAssigned, TaskReleased, Unregistered, HealthChanged }

/// <summary>One entry of an agent's history, and the event its watchers receive.</summary>
[GenerateSerializer, Immutable, Alias("noorg.agents.event")]
public sealed record AgentEvent(
    string AgentId,
    long Sequence,
    DateTimeOffset At,
    AgentEventKind Kind,
    AgentStatus Status,
    string? Detail,
    string? TaskId);

/// <summary>A discovery query: every non-null criterion must hold; capabilities must all be present.</summary>
[GenerateSerializer, Immutable, Alias("noorg.agents.query")]
public sealed record AgentQuery(
    IReadOnlyList<string>? Capabilities = null,
    string? Type = null,
    AgentStatus? Status = null,
    int Skip = 0,
    int Take = 100);

/// <summary>The registry's row for an agent: enough to choose one without calling it.</summary>
[GenerateSerializer, Immutable, Alias("noorg.agents.summary")]
public sealed record AgentSummary(
    string Id,
    string Name,
    string Type,
    AgentStatus Status,
    IReadOnlyList<string> Capabilities,
    int ActiveTasks,
    int MaxConcurrentTasks,
    DateTimeOffset? LastHeartbeatAt,
    string Health = "Healthy");

[GenerateSerializer, Immutable, Alias("noorg.agents.counts")]
public sealed record AgentCounts(
    long Total,
    IReadOnlyDictionary<AgentStatus, long> ByStatus,
    IReadOnlyDictionary<string, long> ByType);
