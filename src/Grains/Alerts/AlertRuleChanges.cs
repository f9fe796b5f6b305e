namespace NoOrg.Grains.Alerts;

/// <summary>
/// The alert state machine, as pure functions: ok → pending → firing → resolved → ok. Pending falls back to ok
/// when the condition stops before <see cref="AlertRuleSpec.For"/>; a zero <c>for</c> goes from ok straight to
/// firing. Each change is one <see cref="AlertTransition"/> with the next sequence number.
/// </summary>
public static class AlertRuleChanges
{
    public const int HistoryLimit = 100;

    public static AlertRule New(string name, AlertRuleSpec spec, DateTimeOffset now) =>
        new(name, spec, AlertState.Ok, now, null, null, null, null, 0, [], now, now);

    /// <summary>Whether <paramref name="value"/> is the condition the rule alerts on.</summary>
    public static bool Holds(AlertRuleSpec spec, double value) =>
        spec.Kind == AlertKind.NoHealthyAgent ? value <= 0 : value > spec.Threshold;

    /// <summary>The rule after one evaluation that read <paramref name="value"/>; the change is null when its state stays.</summary>
    public static (AlertRule Rule, AlertTransition? Change) Evaluate(AlertRule rule, double value, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var holds = Holds(rule.Spec, value);
        AlertAction? action = (rule.State, holds) switch
        {
            (AlertState.Ok or AlertState.Resolved, true) => rule.Spec.For <= TimeSpan.Zero ? AlertAction.Firing : AlertAction.Pending,
            (AlertState.Resolved, false) => AlertAction.Ok,
            (AlertState.Pending, true) when now - rule.Since >= rule.Spec.For => AlertAction.Firing,
            (AlertState.Pending, false) => AlertAction.Ok,
            (AlertState.Firing, false) => AlertAction.Resolved,
            _ => null,
        };
        var evaluated = rule with { LastValue = value, LastEvaluatedAt = now };
        return action is { } a ? Record(evaluated, a, StateAfter(a), value, now, "evaluator", null) : (evaluated, null);
    }

    /// <summary>Only a pending or firing rule can be acknowledged; acknowledging it again replaces the note.</summary>
    public static (AlertRule Rule, AlertTransition Change) Acknowledge(AlertRule rule, string actor, string? note, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.State is not (AlertState.Pending or AlertState.Firing))
        {
            throw new Errors.InvalidTransitionException(
                $"Alert rule '{rule.Name}' is {rule.State.ToString().ToLowerInvariant()}: only a pending or firing rule can be acknowledged.");
        }

        var (next, change) = Record(rule, AlertAction.Acknowledged, rule.State, rule.LastValue, now, actor, note);
        return (next with { Acknowledgement = new AlertAcknowledgement(actor, note, now) }, change!);
    }

    /// <summary>Silenced until now + <paramref name="duration"/>; zero lifts the silence. Never notified itself.</summary>
    public static (AlertRule Rule, AlertTransition Change) Silence(AlertRule rule, TimeSpan duration, string actor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var until = duration > TimeSpan.Zero ? now + duration : (DateTimeOffset?)null;
        var (next, change) = Record(rule with { SilencedUntil = until }, AlertAction.Silenced, rule.State, rule.LastValue, now, actor,
            until is { } u ? $"until {u:O}" : "lifted");
        return (next, change!);
    }

    private static AlertState StateAfter(AlertAction action) => action switch
    {
        AlertAction.Pending => AlertState.Pending,
        AlertAction.Firing => AlertState.Firing,
        AlertAction.Resolved => AlertState.Resolved,
        _ => AlertState.Ok,
    };

    private static (AlertRule, AlertTransition?) Record(
        AlertRule rule, AlertAction action, AlertState to, double? value, DateTimeOffset now, string actor, string? note)
    {
        var notified = action is not (AlertAction.Ok or AlertAction.Silenced) && !rule.IsSilencedAt(now);
        var change = new AlertTransition(rule.Sequence + 1, action, rule.State, to, value, now, actor, note, notified);
        var history = rule.History.Count >= HistoryLimit ? rule.History.Skip(rule.History.Count - HistoryLimit + 1) : rule.History;
        var moved = to != rule.State;
        var next = rule with
        {
            State = to,
            Since = moved ? now : rule.Since,
            // An acknowledgement holds for one episode: it ends when the rule stops alerting.
            Acknowledgement = to is AlertState.Resolved or AlertState.Ok ? null : rule.Acknowledgement,
            Sequence = change.Sequence,
            History = [.. history, change],
            UpdatedAt = now,
        };
        return (next, change);
    }
}
