using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Health;

/// <summary>The cluster health report, read from the health index the monitors keep current.</summary>
[StatelessWorker]
public sealed class HealthReportGrain(IHealthIndex index, NoOrgSettings settings, TimeProvider clock) : Grain, IHealthReportGrain
{
    /// <summary>Agents and issues listed per section; the counts cover every agent.</summary>
    internal const int ListLimit = 100;

    public async Task<ClusterHealthReport> ReportAsync()
    {
        var counts = await index.CountAsync();
        var unhealthy = await index.ListAsync(HealthStatus.Unhealthy, ListLimit);
        var degraded = await index.ListAsync(HealthStatus.Degraded, ListLimit);
        var issues = await index.IssuesAsync(includeResolved: false, 0, ListLimit);
        var recommendations = HealthRecommendations.For(counts, unhealthy, degraded, settings);
        return new ClusterHealthReport(clock.GetUtcNow(), counts, unhealthy, degraded, issues.Items, recommendations);
    }

    public Task<Page<HealthIssue>> IssuesAsync(bool includeResolved, int skip, int take)
    {
        AgentRules.Page(skip, take);
        return index.IssuesAsync(includeResolved, skip, take);
    }

    public async Task<HealthIssue> ResolveIssueAsync(string issueId, string note, string actor)
    {
        if (string.IsNullOrWhiteSpace(issueId))
        {
            throw new ValidationException("issueId: required");
        }

        var issue = await index.FindIssueAsync(issueId)
            ?? throw new NotFoundException($"No health issue '{issueId}'. List them with `noorg health report` or `noorg health issues --all`.");
        return await GrainFactory.GetGrain<IAgentHealthGrain>(issue.AgentId).ResolveIssueAsync(issueId, note, actor);
    }
}
