using NoOrg.Grains;
using NoOrg.Grains.Health;

namespace NoOrg.Client.Health;

/// <summary>Agent health: the cluster report, one agent's verdict, issues and overrides.</summary>
public sealed class HealthClient
{
    private readonly IClusterClient client;
    private readonly string actor;

    internal HealthClient(IClusterClient client, string actor)
    {
        this.client = client;
        this.actor = actor;
    }

    public Task<ClusterHealthReport> ReportAsync() => Reports.ReportAsync();

    public Task<AgentHealth> AgentAsync(string agentId) => Monitor(agentId).GetAsync();

    /// <summary>Runs the agent's checks now instead of at the next interval.</summary>
    public Task<AgentHealth> CheckNowAsync(string agentId) => Monitor(agentId).CheckNowAsync();

    public Task<AgentHealth> SetOverridesAsync(string agentId, HealthOverrides overrides) => Monitor(agentId).SetOverridesAsync(overrides);

    public Task<Page<HealthIssue>> IssuesAsync(bool includeResolved = false, int skip = 0, int take = 100) => Reports.IssuesAsync(includeResolved, skip, take);

    public Task<HealthIssue> ResolveAsync(string issueId, string note, string? actor = null) => Reports.ResolveIssueAsync(issueId, note, actor ?? this.actor);

    private IAgentHealthGrain Monitor(string agentId) => client.GetGrain<IAgentHealthGrain>(InputText.RequireId("agentId", agentId));

    private IHealthReportGrain Reports => client.GetGrain<IHealthReportGrain>(0);
}
