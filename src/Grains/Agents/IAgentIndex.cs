
namespace NoOrg.Grains.Agents;

/// <summary>
/// The agent registry's index: one row per agent and its capabilities, in the cluster's database. The database
/// projects every agent state write into it in the same statement (migration 0011_agent_projection); discovery and
/// dispatch query it, so no single grain sits in front of every agent, and it is intact after a full cluster restart.
/// </summary>
public interface IAgentIndex
{
    /// <summary>The agent's history, newest first (rows the database appends from each agent state write).</summary>
    Task<IReadOnlyList<AgentEvent>> HistoryAsync(string agentId, int skip, int take, CancellationToken cancellationToken = default);

    Task<Page<AgentSummary>> FindAsync(AgentQuery query, CancellationToken cancellationToken = default);

    Task<AgentCounts> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>Every capability offered by at least one registered agent, sorted.</summary>
    Task<IReadOnlyList<string>> CapabilitiesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Agents with every capability that accept work (available or busy, and not unhealthy) and have room
    /// (active &lt; max): healthy before degraded, then least loaded first (active/max ascending, then fewest
    /// active, then id).
    /// </summary>
    Task<IReadOnlyList<AgentSummary>> CandidatesAsync(IReadOnlyList<string> capabilities, int limit, CancellationToken cancellationToken = default);

    /// <summary>How many registered agents have every capability, and how many of those accept work; for "why unassignable".</summary>
    Task<(int Capable, int Accepting)> CapabilityCoverageAsync(IReadOnlyList<string> capabilities, CancellationToken cancellationToken = default);
}
