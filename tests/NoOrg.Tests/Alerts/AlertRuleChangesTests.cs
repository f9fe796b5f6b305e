using NoOrg.Grains.Alerts;
using NoOrg.Grains.Errors;

namespace NoOrg.Tests.Alerts;

/// <summary>The alert state machine and rule validation as pure code: no cluster.</summary>
public sealed class AlertRuleChangesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static AlertRule Rule(TimeSpan forDuration) =>
        AlertRuleChanges.New("backlog", new AlertRuleSpec(AlertKind.PendingTasks, 10, forDuration), T0);

    [Fact]
    public void A_condition_goes_pending_then_fires_only_after_its_for_duration_then_resolves_then_ok()
    {
        var rule = Rule(TimeSpan.FromMinutes(5));

        var (quiet, none) = AlertRuleChanges.Evaluate(rule, 10, T0.AddSeconds(1)); // not above the threshold
        Assert.Null(none);
        Assert.Equal(AlertState.Ok, quiet.State);

        var (pending, toPending) = AlertRuleChanges.Evaluate(quiet, 11, T0.AddMinutes(1));
        Assert.Equal((AlertAction.Pending, AlertState.Pending, 1L, true), (toPending!.Action, pending.State, toPending.Sequence, toPending.Notified));

        var (stillPending, early) = AlertRuleChanges.Evaluate(pending, 50, T0.AddMinutes(5)); // 4 minutes < 5
        Assert.Null(early);
        Assert.Equal(AlertState.Pending, stillPending.State);

        var (firing, toFiring) = AlertRuleChanges.Evaluate(stillPending, 50, T0.AddMinutes(6));
        Assert.Equal((AlertAction.Firing, AlertState.Firing, 2L), (toFiring!.Action, firing.State, toFiring.Sequence));

        var (resolved, toResolved) = AlertRuleChanges.Evaluate(firing, 0, T0.AddMinutes(7));
        Assert.Equal((AlertAction.Resolved, AlertState.Resolved), (toResolved!.Action, resolved.State));

        var (ok, toOk) = AlertRuleChanges.Evaluate(resolved, 0, T0.AddMinutes(8));
        Assert.Equal((AlertAction.Ok, AlertState.Ok, false), (toOk!.Action, ok.State, toOk.Notified));
        Assert.Equal([1L, 2, 3, 4], ok.History.Select(h => h.Sequence));
    }

    [Fact]
    public void Pending_falls_back_to_ok_when_the_condition_stops_early_and_zero_for_fires_at_once()
    {
        var (pending, _) = AlertRuleChanges.Evaluate(Rule(TimeSpan.FromMinutes(5)), 11, T0);
        var (back, change) = AlertRuleChanges.Evaluate(pending, 3, T0.AddMinutes(1));
        Assert.Equal((AlertAction.Ok, AlertState.Ok), (change!.Action, back.State));

        var (firing, direct) = AlertRuleChanges.Evaluate(Rule(TimeSpan.Zero), 11, T0);
        Assert.Equal((AlertAction.Firing, AlertState.Firing), (direct!.Action, firing.State));
    }

    [Fact]
    public void No_healthy_agent_fires_when_none_qualifies()
    {
        var spec = new AlertRuleSpec(AlertKind.NoHealthyAgent, 0, TimeSpan.Zero, "image.resize");
        Assert.True(AlertRuleChanges.Holds(spec, 0));
        Assert.False(AlertRuleChanges.Holds(spec, 1));
    }

    [Fact]
    public void Acknowledgement_needs_an_alerting_rule_and_ends_with_the_episode()
    {
        Assert.Throws<InvalidTransitionException>(() => AlertRuleChanges.Acknowledge(Rule(TimeSpan.Zero), "ops", null, T0));

        var (firing, _) = AlertRuleChanges.Evaluate(Rule(TimeSpan.Zero), 11, T0);
        var (acked, ack) = AlertRuleChanges.Acknowledge(firing, "ops", "on it", T0.AddMinutes(1));
        Assert.Equal((AlertAction.Acknowledged, AlertState.Firing, true), (ack.Action, acked.State, ack.Notified));
        Assert.Equal(new AlertAcknowledgement("ops", "on it", T0.AddMinutes(1)), acked.Acknowledgement);

        var (resolved, _) = AlertRuleChanges.Evaluate(acked, 0, T0.AddMinutes(2));
        Assert.Null(resolved.Acknowledgement);
    }

    [Fact]
    public void A_silenced_rule_changes_state_without_notifying_until_the_silence_ends()
    {
        var (silenced, silence) = AlertRuleChanges.Silence(Rule(TimeSpan.Zero), TimeSpan.FromHours(1), "ops", T0);
        Assert.False(silence.Notified);
        Assert.Equal(T0.AddHours(1), silenced.SilencedUntil);

        var (firing, fired) = AlertRuleChanges.Evaluate(silenced, 11, T0.AddMinutes(10));
        Assert.Equal(AlertState.Firing, firing.State);
        Assert.False(fired!.Notified);

        var (resolved, later) = AlertRuleChanges.Evaluate(firing, 0, T0.AddHours(2));
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.True(later!.Notified);
    }

    [Fact]
    public void History_keeps_the_newest_entries_only()
    {
        var rule = Rule(TimeSpan.Zero);
        for (var i = 0; i < AlertRuleChanges.HistoryLimit + 10; i++)
        {
            (rule, _) = AlertRuleChanges.Evaluate(rule, i % 2 == 0 ? 11 : 0, T0.AddMinutes(i));
        }

        Assert.Equal(AlertRuleChanges.HistoryLimit, rule.History.Count);
        Assert.Equal(rule.Sequence, rule.History[^1].Sequence);
    }

    [Theory]
    [InlineData(AlertKind.SagaFailureRate, 1.5, null, null, "threshold:", "window:")]
    [InlineData(AlertKind.NoHealthyAgent, 0, null, null, "capability:", null)]
    [InlineData(AlertKind.DeadLetters, -1, "cap", null, "threshold:", "capability:")]
    [InlineData(AlertKind.PendingTasks, 5, null, 60, "window:", null)]
    public void Bad_specs_name_each_field(AlertKind kind, double threshold, string? capability, int? windowSeconds, string field, string? other)
    {
        var spec = new AlertRuleSpec(kind, threshold, TimeSpan.Zero, capability, windowSeconds is { } w ? TimeSpan.FromSeconds(w) : null);
        var problems = AlertRuleRules.Problems("rule-1", spec);

        Assert.Contains(problems, p => p.StartsWith(field, StringComparison.Ordinal));
        if (other is not null)
        {
            Assert.Contains(problems, p => p.StartsWith(other, StringComparison.Ordinal));
        }
        else
        {
            Assert.Single(problems);
        }
    }

    [Fact]
    public void A_good_spec_has_no_problem()
    {
        Assert.Empty(AlertRuleRules.Problems("sagas-failing", new AlertRuleSpec(AlertKind.SagaFailureRate, 0.2, TimeSpan.FromMinutes(5), Window: TimeSpan.FromHours(1))));
        Assert.Contains(AlertRuleRules.Problems("has space", new AlertRuleSpec(AlertKind.DeadLetters)), p => p.StartsWith("name:", StringComparison.Ordinal));
    }
}
