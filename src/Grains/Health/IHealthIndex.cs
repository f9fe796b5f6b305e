namespace NoOrg.Grains.Health;

/// <summary>
/// The health aggregate in the cluster's database (migration 0007_agent_health): one row per monitored agent and
/// every issue. Monitors project into it; the cluster report reads it, so a report never calls an agent.
/// </summary>
public interface IHealthIndex
{
    /// <summary>Upserts the agent's row; ignores a version not newer than the stored one.</summary>
    Task ProjectAsync(AgentHealthSummary agent, long version, CancellationToken cancellationToken = default);

    Task RemoveAsync(string agentId, CancellationToken cancellationToken = default);

    Task UpsertIssuesAsync(IReadOnlyList<HealthIssue> issues, CancellationToken cancellationToken = default);

    Task<IReadOnlyDictionary<HealthStatus, long>> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>Agents in the given status, by id, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<AgentHealthSummary>> ListAsync(HealthStatus status, int limit, CancellationToken cancellationToken = default);

    /// <summary>Newest first.</summary>
    Task<Page<HealthIssue>> IssuesAsync(bool includeResolved, int skip, int take, CancellationToken cancellationToken = default);

    Task<HealthIssue?> FindIssueAsync(string issueId, CancellationToken cancellationToken = default);
}
