using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Health;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Health;

/// <summary>Checks, thresholds, issues, reports and dispatch consequences, in the shared clusters with default thresholds.</summary>
public abstract class AgentHealthTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(200);

    private IClusterClient Client => fixture.Client;

    [SkippableFact]
    public async Task Each_default_threshold_crossed_changes_the_status()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);

        // Ten fast successes: nothing crossed (the control that lets the others fail).
        var healthy = await MonitoredAsync(agents, Outcomes(10, TaskOutcomeKind.Succeeded, Fast));
        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Empty(healthy.Reasons);

        // Error rate 20 % > 10 %: unhealthy.
        var erring = await MonitoredAsync(agents, [.. Outcomes(8, TaskOutcomeKind.Succeeded, Fast), .. Outcomes(2, TaskOutcomeKind.Failed, null)]);
        Assert.Equal(HealthStatus.Unhealthy, erring.Status);
        Assert.Contains("error-rate", Failing(erring));
        Assert.Equal(0.2, erring.Metrics.ErrorRate!.Value, 3);

        // Success rate 80 % < 90 % while the error rate stays at the 10 % limit: degraded by that threshold alone.
        var unsuccessful = await MonitoredAsync(agents,
            [.. Outcomes(8, TaskOutcomeKind.Succeeded, Fast), .. Outcomes(1, TaskOutcomeKind.Failed, null), .. Outcomes(1, TaskOutcomeKind.Lost, null)]);
        Assert.Equal(HealthStatus.Degraded, unsuccessful.Status);
        Assert.Equal(["success-rate"], Failing(unsuccessful));

        // p95 above 5 s with a fast median: degraded; the median above 5 s too: unhealthy.
        var slowTail = await MonitoredAsync(agents, [.. Outcomes(9, TaskOutcomeKind.Succeeded, Fast), .. Outcomes(1, TaskOutcomeKind.Succeeded, TimeSpan.FromSeconds(6))]);
        Assert.Equal(HealthStatus.Degraded, slowTail.Status);
        Assert.Equal(["response-time"], Failing(slowTail));
        Assert.Equal(TimeSpan.FromSeconds(6), slowTail.Metrics.P95ResponseTime);
        var slow = await MonitoredAsync(agents, Outcomes(10, TaskOutcomeKind.Succeeded, TimeSpan.FromSeconds(6)));
        Assert.Equal(HealthStatus.Unhealthy, slow.Status);
        Assert.Equal(["response-time"], Failing(slow));

        // Uptime: silent past a (per-agent) heartbeat timeout of 1 s, then back: below 99 %, degraded.
        var (id, grain) = await agents.RegisterAsync(TestAgents.Registration([TestAgents.NewCapability("uptime")]));
        var monitor = Client.GetGrain<IAgentHealthGrain>(id);
        await monitor.SetOverridesAsync(new HealthOverrides(HeartbeatTimeoutSeconds: 1));
        var silent = await Eventually.ReturnsAsync(monitor.CheckNowAsync, h => Failing(h).Contains("heartbeat"), Patience, "the heartbeat check to fail");
        Assert.Equal(HealthStatus.Unhealthy, silent.Status);
        await grain.HeartbeatAsync();
        var back = await monitor.CheckNowAsync();
        Assert.Equal(HealthStatus.Degraded, back.Status);
        Assert.Equal(["uptime"], Failing(back));
        Assert.True(back.Metrics.Uptime < 0.99, $"uptime {back.Metrics.Uptime}");
        Assert.Equal([HealthStatus.Unhealthy, HealthStatus.Degraded], back.History.Select(c => c.To).TakeLast(2));
    }

    [SkippableFact]
    public async Task Per_agent_overrides_replace_the_cluster_thresholds()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);
        var erring = await MonitoredAsync(agents, [.. Outcomes(8, TaskOutcomeKind.Succeeded, Fast), .. Outcomes(2, TaskOutcomeKind.Failed, null)]);
        Assert.Equal(HealthStatus.Unhealthy, erring.Status);

        var relaxed = await Client.GetGrain<IAgentHealthGrain>(erring.AgentId).SetOverridesAsync(new HealthOverrides(MinSuccessRate: 0.5, MaxErrorRate: 0.5));
        Assert.Equal(HealthStatus.Healthy, relaxed.Status);
        Assert.Equal((0.5, 0.5), (relaxed.Thresholds.MinSuccessRate, relaxed.Thresholds.MaxErrorRate));

        await Assert.ThrowsAsync<ValidationException>(() => Client.GetGrain<IAgentHealthGrain>(erring.AgentId).SetOverridesAsync(new HealthOverrides(MaxErrorRate: 1.5)));
        await Assert.ThrowsAsync<NotFoundException>(() => Client.GetGrain<IAgentHealthGrain>($"nobody-{Guid.NewGuid():N}").SetOverridesAsync(new HealthOverrides()));
    }

    [SkippableFact]
    public async Task A_custom_check_registered_by_the_test_runs_and_can_fail_an_agent()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);
        foreach (var (flag, expected) in new[]
        {
            ("fail", "the test flag says this agent is broken"),
            ("throw", "the check threw InvalidOperationException: the test check blew up"),
            ("hang", "the check did not finish within 0.3s"),
        })
        {
            var (id, _) = await agents.RegisterAsync(Flagged(flag));
            var health = await Client.GetGrain<IAgentHealthGrain>(id).CheckNowAsync();
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Equal([$"{FlagHealthCheck.CheckName}: {expected}"], health.Reasons);
        }

        var (passing, _) = await agents.RegisterAsync(Flagged("none"));
        var ok = await Client.GetGrain<IAgentHealthGrain>(passing).CheckNowAsync();
        Assert.Equal(HealthStatus.Healthy, ok.Status);
        Assert.Contains(ok.Checks, c => c.Check == FlagHealthCheck.CheckName && c.Detail == "no test flag");
    }

    [SkippableFact]
    public async Task Issues_open_on_failure_update_on_repeat_resolve_on_pass_and_by_an_operator_with_a_note()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);
        var (id, grain) = await agents.RegisterAsync(Flagged("fail"));
        var monitor = Client.GetGrain<IAgentHealthGrain>(id);
        await monitor.CheckNowAsync();
        var repeated = await monitor.CheckNowAsync();
        var issue = Assert.Single(repeated.Issues);
        Assert.Equal((FlagHealthCheck.CheckName, HealthIssueState.Open, HealthStatus.Unhealthy), (issue.Check, issue.State, issue.Severity));
        Assert.True(issue.Occurrences >= 2, $"occurrences {issue.Occurrences}");

        var report = await Client.GetGrain<IHealthReportGrain>(0).ReportAsync();
        Assert.Contains(report.OpenIssues, i => i.Id == issue.Id);
        var listed = Assert.Single(report.Unhealthy, a => a.AgentId == id);
        Assert.Equal([FlagHealthCheck.CheckName], listed.FailingChecks);
        Assert.Contains(report.Recommendations, r => r.Contains(id, StringComparison.Ordinal) && r.Contains(FlagHealthCheck.CheckName, StringComparison.Ordinal));

        // Passing resolves it automatically.
        await grain.UpdateAsync(new AgentUpdate(Metadata: new Dictionary<string, string> { [FlagHealthCheck.MetadataKey] = "none" }));
        var healed = await monitor.CheckNowAsync();
        Assert.Equal(HealthStatus.Healthy, healed.Status);
        var closed = Assert.Single(healed.Issues);
        Assert.Equal((HealthIssueState.Resolved, "system"), (closed.State, closed.ResolvedBy));

        // An operator resolves another one by hand; it is kept and listed with the note.
        var (other, _) = await agents.RegisterAsync(Flagged("degrade"));
        var open = Assert.Single((await Client.GetGrain<IAgentHealthGrain>(other).CheckNowAsync()).Issues);
        Assert.Equal(HealthStatus.Degraded, open.Severity);
        var reports = Client.GetGrain<IHealthReportGrain>(0);
        await Assert.ThrowsAsync<ValidationException>(() => reports.ResolveIssueAsync(open.Id, " ", "operator"));
        await Assert.ThrowsAsync<NotFoundException>(() => reports.ResolveIssueAsync($"no-such-{Guid.NewGuid():N}", "note", "operator"));
        var resolved = await reports.ResolveIssueAsync(open.Id, "replaced the disk", "operator");
        Assert.Equal((HealthIssueState.Resolved, "operator", "replaced the disk"), (resolved.State, resolved.ResolvedBy, resolved.Note));
        var all = await reports.IssuesAsync(includeResolved: true, 0, 1000);
        Assert.Contains(all.Items, i => i.Id == open.Id && i.Note == "replaced the disk");
        Assert.Contains(all.Items, i => i.Id == issue.Id && i.State == HealthIssueState.Resolved);
        Assert.DoesNotContain((await reports.IssuesAsync(includeResolved: false, 0, 1000)).Items, i => i.Id == open.Id || i.Id == issue.Id);
    }

    [SkippableFact]
    public async Task Unhealthy_agents_get_no_tasks_and_degraded_ones_only_when_no_healthy_agent_can_take_them()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);
        var capability = TestAgents.NewCapability("health-dispatch");

        // Only an unhealthy agent offers the capability: the task waits, and says why.
        var (sick, sickGrain) = await agents.RegisterAsync(Flagged("fail", [capability], max: 5));
        await Client.GetGrain<IAgentHealthGrain>(sick).CheckNowAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await sickGrain.GetAsync())!.Health);
        var first = await TestAgents.CreateTaskAsync(Client, capability);
        var waiting = await Eventually.ReturnsAsync(first.GetAsync, t => t!.UnassignableReason is not null, Patience, "the task to be found unassignable");
        Assert.Null(waiting!.AssignedTo);
        Assert.Contains("unhealthy", waiting.UnassignableReason, StringComparison.Ordinal);

        // A degraded agent (ids sort it first, and it is idle) and a healthy one: the healthy one gets the task. The
        // degraded agent gains the capability only once its monitor has judged it, so no task reaches it earlier.
        var shared = TestAgents.NewCapability("health-order");
        var degradedId = $"a-degraded-{Guid.NewGuid():N}";
        var degraded = Client.GetGrain<IAgentGrain>(degradedId);
        await degraded.RegisterAsync(Flagged("degrade", max: 5));
        try
        {
            Assert.Equal(HealthStatus.Degraded, (await Client.GetGrain<IAgentHealthGrain>(degradedId).CheckNowAsync()).Status);
            await degraded.UpdateAsync(new AgentUpdate(Capabilities: [shared]));
            var (healthyId, _) = await agents.RegisterAsync(Flagged("none", [shared], max: 1));

            var second = await TestAgents.CreateTaskAsync(Client, shared);
            var toHealthy = await Eventually.ReturnsAsync(second.GetAsync, t => t!.AssignedTo is not null, Patience, "the task to be placed");
            Assert.Equal(healthyId, toHealthy!.AssignedTo);

            // The healthy agent is full: the degraded one is used rather than nothing.
            var third = await TestAgents.CreateTaskAsync(Client, shared);
            var toDegraded = await Eventually.ReturnsAsync(third.GetAsync, t => t!.AssignedTo is not null, Patience, "the next task to be placed");
            Assert.Equal(degradedId, toDegraded!.AssignedTo);
            Assert.Null((await first.GetAsync())!.AssignedTo);
            Assert.Equal(sick, (await sickGrain.GetAsync())!.Id);
            Assert.Empty((await sickGrain.GetAsync())!.ActiveTaskIds);
        }
        finally
        {
            await degraded.UnregisterAsync("test finished");
        }
    }

    private static AgentRegistration Flagged(string flag, IReadOnlyList<string>? capabilities = null, int max = 2) =>
        new("flagged", "test-agent", "an agent under test", capabilities ?? [TestAgents.NewCapability("flagged")], max,
            new Dictionary<string, string> { [FlagHealthCheck.MetadataKey] = flag });
    [SkippableFact]
    public async Task Recorded_outcomes_are_stored_by_the_next_round_and_on_deactivation()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(Client);

        // Stored by a round: the monitor's state as another activation reads it from storage.
        var (id, grain) = await agents.RegisterAsync(TestAgents.Registration([TestAgents.NewCapability("stored")]));
        await grain.HeartbeatAsync();
        var monitor = Client.GetGrain<IAgentHealthGrain>(id);
        await RecordAsync(monitor, 3);
        await monitor.CheckNowAsync();
        await fixture.Cluster!.DeactivateAsync(monitor);
        Assert.Equal(3, (await monitor.GetAsync()).Metrics.Samples);

        // Stored on deactivation, with no round between.
        await RecordAsync(monitor, 2);
        await fixture.Cluster.DeactivateAsync(monitor);
        Assert.Equal(5, (await monitor.GetAsync()).Metrics.Samples);

        static async Task RecordAsync(IAgentHealthGrain monitor, int count)
        {
            for (var i = 0; i < count; i++)
            {
                await monitor.RecordOutcomeAsync(new TaskOutcome($"task-{Guid.NewGuid():N}", 1, TaskOutcomeKind.Succeeded, DateTimeOffset.UtcNow, Fast));
            }
        }
    }

    private static List<string> Failing(AgentHealth health) => [.. health.Checks.Where(c => !c.Passed).Select(c => c.Check)];

    private static IEnumerable<(TaskOutcomeKind Kind, TimeSpan? Duration)> Outcomes(int count, TaskOutcomeKind kind, TimeSpan? duration) =>
        Enumerable.Repeat((kind, duration), count);

    /// <summary>A fresh agent with a heartbeat, its monitor fed these outcomes, then checked.</summary>
    private async Task<AgentHealth> MonitoredAsync(TestAgents agents, IEnumerable<(TaskOutcomeKind Kind, TimeSpan? Duration)> outcomes)
    {
        var (id, grain) = await agents.RegisterAsync(TestAgents.Registration([TestAgents.NewCapability("outcomes")]));
        await grain.HeartbeatAsync();
        var monitor = Client.GetGrain<IAgentHealthGrain>(id);
        var attempt = 0;
        foreach (var (kind, duration) in outcomes)
        {
            await monitor.RecordOutcomeAsync(new TaskOutcome($"task-{Guid.NewGuid():N}", ++attempt, kind, DateTimeOffset.UtcNow, duration));
        }

        return await monitor.CheckNowAsync();
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentHealthTests(SqliteClusterFixture fixture) : AgentHealthTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentHealthTests(PostgresClusterFixture fixture) : AgentHealthTests(fixture);
