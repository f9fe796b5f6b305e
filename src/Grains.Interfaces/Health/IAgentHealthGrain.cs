using NoOrg.Grains.Security;
namespace NoOrg.Grains.Health;

/// <summary>The health monitor of one agent, keyed by agent id: runs its checks on a reminder and a timer.</summary>
[Alias("noorg.health.agent")]
public interface IAgentHealthGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts monitoring (idempotent): registers the durable reminder that keeps the checks running. Also wakes a
    /// monitor that went quiet while its agent was offline.
    /// </summary>
    [Alias("start"), Requires(AccessRole.Admin)] Task StartAsync();

    /// <summary>Runs every check now and returns the result.</summary>
    [Alias("check")] Task<AgentHealth> CheckNowAsync();

    /// <summary>Throws <see cref="Errors.NotFoundException"/> when the agent is not monitored.</summary>
    [Alias("get"), AgentMay(AgentScope.GrainKey)] Task<AgentHealth> GetAsync();

    /// <summary>A task attempt on this agent ended; counted in the success, error and response-time windows.</summary>
    [Alias("record-outcome"), Requires(AccessRole.Admin)] Task RecordOutcomeAsync(TaskOutcome outcome);

    /// <summary>Replaces the agent's threshold overrides (all-null fields clear them).</summary>
    [Alias("set-overrides")] Task<AgentHealth> SetOverridesAsync(HealthOverrides overrides);

    /// <summary>An operator resolves an open issue with a note.</summary>
    [Alias("resolve")] Task<HealthIssue> ResolveIssueAsync(string issueId, string note, string actor);
}

/// <summary>The cluster health report, from the maintained health aggregate (never by calling every agent).</summary>
[Alias("noorg.health.reports")]
public interface IHealthReportGrain : IGrainWithIntegerKey
{
    [Alias("report"), Requires(AccessRole.Reader)] Task<ClusterHealthReport> ReportAsync();

    /// <summary>Issues of every agent, newest first; open ones only unless <paramref name="includeResolved"/>.</summary>
    [Alias("issues"), Requires(AccessRole.Reader)] Task<Page<HealthIssue>> IssuesAsync(bool includeResolved, int skip, int take);

    /// <summary>Resolves an issue by id, whichever agent it belongs to.</summary>
    [Alias("resolve")] Task<HealthIssue> ResolveIssueAsync(string issueId, string note, string actor);
}
