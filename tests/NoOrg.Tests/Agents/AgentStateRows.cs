using NoOrg.Grains.Agents;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Agents;

/// <summary>Agent grain states written as the grain storage writes them, so tests see the database's projection.</summary>
internal sealed class AgentStateRows(StorageDialect dialect, string connectionString)
{
    private readonly GrainStateRows rows = new(dialect, connectionString, "agent");

    public Task<int?> WriteAsync(AgentSnapshot agent, int? expectedVersion = null) =>
        rows.WriteAsync(agent.Id, State(agent), expectedVersion);

    /// <summary>What an unregistered agent leaves: no registration, its version.</summary>
    public Task<int?> UnregisterAsync(string agentId, long version) =>
        rows.WriteAsync(agentId, new AgentState { Status = AgentStatus.Offline, Version = version });

    private static AgentState State(AgentSnapshot a) => new()
    {
        Registration = a.Registration,
        Status = a.Status,
        StatusReason = a.StatusReason,
        ActiveTaskIds = a.ActiveTaskIds,
        RegisteredAt = a.RegisteredAt,
        UpdatedAt = a.UpdatedAt,
        LastHeartbeatAt = a.LastHeartbeatAt,
        LastSeenAt = a.LastHeartbeatAt ?? a.RegisteredAt,
        Version = a.Version,
        Health = a.Health,
    };
}
