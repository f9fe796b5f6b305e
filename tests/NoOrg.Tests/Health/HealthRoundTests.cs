using NoOrg.Grains.Health;

namespace NoOrg.Tests.Health;

/// <summary>What a round of checks makes of an agent's health (<c>HealthRound</c>), as pure code with no cluster.</summary>
public sealed class HealthRoundTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 2, 0, 0, TimeSpan.Zero);
    private static readonly HashSet<string> NoneUnprojected = new(StringComparer.Ordinal);

    private static HealthCheckResult Pass(string check, int second = 0) => new(check, HealthStatus.Healthy, "fine", T0.AddSeconds(second));

    private static HealthCheckResult Fail(string check, HealthStatus status, string detail = "bad", int second = 0) => new(check, status, detail, T0.AddSeconds(second));

    private static HealthRound Round(AgentHealthState previous, int second, int historyLimit, params HealthCheckResult[] results) =>
        HealthRound.Evaluate(previous, results, T0.AddSeconds(second), "agent-a", historyLimit, NoneUnprojected);

    [Fact]
    public void The_worst_failing_check_sets_the_status_and_every_failing_check_gives_a_reason()
    {
        var round = Round(new AgentHealthState(), 1, 10, Pass("uptime"), Fail("error-rate", HealthStatus.Degraded, "40%"), Fail("heartbeat", HealthStatus.Unhealthy, "no heartbeat for 31s"));

        Assert.Equal(HealthStatus.Unhealthy, round.Next.Status);
        Assert.Equal(["error-rate: 40%", "heartbeat: no heartbeat for 31s"], round.Next.Reasons);
        Assert.Equal("error-rate: 40%; heartbeat: no heartbeat for 31s", round.Reason);
        Assert.Equal((true, true, true, 1, T0.AddSeconds(1)), (round.StatusChanged, round.ChecksChanged, round.IssuesChanged, round.Next.ConsecutiveFailures, round.Next.UnhealthySince!.Value));
        Assert.Equal([(HealthStatus.Healthy, HealthStatus.Unhealthy)], round.Next.History.Select(h => (h.From, h.To)));
    }

    [Fact]
    public void An_issue_opens_once_counts_its_repeats_and_resolves_when_its_check_passes()
    {
        var first = Round(new AgentHealthState(), 1, 10, Fail("heartbeat", HealthStatus.Unhealthy));
        var opened = Assert.Single(first.Next.Issues);
        Assert.Equal(("agent-a:heartbeat:1", HealthIssueState.Open, 1), (opened.Id, opened.State, opened.Occurrences));

        var again = Round(first.Next, 2, 10, Fail("heartbeat", HealthStatus.Unhealthy, "still bad"));
        Assert.Equal((2, "still bad", false, false), (again.Next.Issues.Single().Occurrences, again.Next.Issues.Single().Detail, again.IssuesChanged, again.StatusChanged));
        Assert.Equal(T0.AddSeconds(1), again.Next.UnhealthySince); // since the first failing round
        Assert.Equal(["agent-a:heartbeat:1"], again.TouchedIssues);

        var passed = Round(again.Next, 3, 10, Pass("heartbeat"));
        var resolved = passed.Next.Issues.Single();
        Assert.Equal((HealthIssueState.Resolved, "system", T0.AddSeconds(3)), (resolved.State, resolved.ResolvedBy, resolved.ResolvedAt!.Value));
        Assert.Equal((HealthStatus.Healthy, 0, (DateTimeOffset?)null, true), (passed.Next.Status, passed.Next.ConsecutiveFailures, passed.Next.UnhealthySince, passed.IssuesChanged));

        var reopened = Round(passed.Next, 4, 10, Fail("heartbeat", HealthStatus.Degraded));
        Assert.Equal(["agent-a:heartbeat:1", "agent-a:heartbeat:2"], reopened.Next.Issues.Select(i => i.Id));
    }

    [Fact]
    public void A_severity_change_of_an_open_issue_counts_as_a_change()
    {
        var degraded = Round(new AgentHealthState(), 1, 10, Fail("error-rate", HealthStatus.Degraded));
        var worse = Round(degraded.Next, 2, 10, Fail("error-rate", HealthStatus.Unhealthy));
        Assert.True(worse.IssuesChanged);
        Assert.Equal(HealthStatus.Unhealthy, worse.Next.Issues.Single().Severity);
    }

    [Fact]
    public void Only_the_newest_resolved_issues_stay_in_the_state_unless_the_index_does_not_have_them_yet()
    {
        var state = new AgentHealthState();
        for (var i = 0; i < 4; i++)
        {
            state = Round(state, (2 * i) + 1, 2, Fail("heartbeat", HealthStatus.Unhealthy)).Next;
            state = Round(state, (2 * i) + 2, 2, Pass("heartbeat")).Next;
        }

        Assert.Equal(["agent-a:heartbeat:3", "agent-a:heartbeat:4"], state.Issues.Select(i => i.Id));
        Assert.Equal(4, state.IssueCount);

        var kept = HealthRound.Evaluate(state, [Fail("uptime", HealthStatus.Degraded)], T0.AddSeconds(20), "agent-a", 1,
            new HashSet<string>(["agent-a:heartbeat:3"], StringComparer.Ordinal));
        Assert.Equal(["agent-a:heartbeat:3", "agent-a:heartbeat:4", "agent-a:uptime:5"], kept.Next.Issues.Select(i => i.Id));
    }

    [Fact]
    public void A_round_that_changes_nothing_says_so()
    {
        var first = Round(new AgentHealthState(), 1, 10, Pass("heartbeat"), Pass("uptime"));
        var second = Round(first.Next, 2, 10, Pass("heartbeat"), Pass("uptime"));
        Assert.Equal((false, false, false), (second.StatusChanged, second.ChecksChanged, second.IssuesChanged));
        Assert.Empty(second.Next.History);
        Assert.Null(second.Reason);
    }
}
