using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Grains.Alerts;

/// <summary>
/// One alert rule. A change (evaluation, acknowledgement, silence) is decided by <see cref="AlertRuleChanges"/>,
/// written once together with its <c>alert.*</c> event for the subscribed webhooks in the rule's outbox, and only
/// then delivered: at least once, with the message id <c>alert:{name}:{sequence}</c> receivers de-duplicate on.
/// </summary>
public sealed class AlertRuleGrain(
    [PersistentState(AlertRuleGrain.StateName, StorageNames.Default)] IPersistentState<AlertRuleGrainState> state,
    OutboxRelayFactory outboxes,
    WebhookDirectory webhooks,
    TimeProvider clock) : Grain, IAlertRuleGrain, IAlertRuleEvaluationGrain
{
    /// <summary>The state name (unique to this grain type): the outbox sweeper maps stored rows back to rule grains by it.</summary>
    internal const string StateName = "alert-rule";

    /// <summary>Outbox payload type of alert events (<see cref="AlertEvent"/> in JSON).</summary>
    internal const string EventPayload = "noorg.alerts.event";

    private OutboxRelay? relay;

    private string Name => this.GetPrimaryKeyString();

    private OutboxRelay Outbox => relay ??= outboxes.Create(
        this, StateName, () => state.State.Outbox, outbox => state.State = state.State with { Outbox = outbox });

    /// <summary>The event type of a notified action: <c>alert.pending</c>, <c>alert.firing</c>, <c>alert.resolved</c>, <c>alert.acknowledged</c>.</summary>
    public static string EventType(AlertAction action) => OutboxEventTypes.For("alert", action);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Outbox.Activated(state.RecordExists);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Outbox.DeactivatingAsync();

    public Task<int> DeliverOutboxAsync() => Outbox.DeliverDueAsync();

    public Task<IReadOnlyList<OutboxEntryView>> GetOutboxAsync() => Outbox.ViewAsync();

    public Task<int> RetryDeadLettersAsync(string? messageId) => Outbox.RetryDeadAsync(messageId);

    public Task<AlertRule?> GetAsync() => Task.FromResult(state.State.Rule);

    public async Task<AlertRule> SetAsync(AlertRuleSpec spec, string actor)
    {
        AlertRuleRules.Require(Name, spec);
        var now = clock.GetUtcNow();
        var next = state.State.Rule is { } rule ? rule with { Spec = spec, UpdatedAt = now } : AlertRuleChanges.New(Name, spec, now);
        await CommitAsync(next, null);
        return next;
    }

    public async Task<bool> DeleteAsync()
    {
        if (state.State.Rule is null)
        {
            return false;
        }

        await CommitAsync(null, null);
        return true;
    }

    public async Task<bool> ApplyAsync(double value, DateTimeOffset at)
    {
        if (state.State.Rule is not { } rule)
        {
            return false;
        }

        var (next, change) = AlertRuleChanges.Evaluate(rule, value, at);
        if (change is null)
        {
            // Nothing to make durable: the reading is kept in memory only.
            state.State = state.State with { Rule = next };
            return false;
        }

        await CommitAsync(next, change);
        return true;
    }

    public async Task<AlertRule> AcknowledgeAsync(string actor, string? note)
    {
        AlertRuleRules.RequireNote(note);
        var (next, change) = AlertRuleChanges.Acknowledge(Existing(), Actor(actor), note, clock.GetUtcNow());
        await CommitAsync(next, change);
        return next;
    }

    public async Task<AlertRule> SilenceAsync(TimeSpan duration, string actor)
    {
        AlertRuleRules.RequireSilence(duration);
        var (next, change) = AlertRuleChanges.Silence(Existing(), duration, Actor(actor), clock.GetUtcNow());
        await CommitAsync(next, change);
        return next;
    }

    private AlertRule Existing() => state.State.Rule ?? throw new NotFoundException($"Alert rule '{Name}' does not exist.");

    private static string Actor(string? actor) => InputText.RequireId("actor", actor);

    /// <summary>One write: the rule and, for a notified change, its event to every matching webhook.</summary>
    private async Task CommitAsync(AlertRule? next, AlertTransition? change)
    {
        var before = state.State;
        var outbox = before.Outbox;
        if (change is { Notified: true } && next is not null)
        {
            var type = EventType(change.Action);
            var message = new OutboxMessage($"alert:{Name}:{change.Sequence}", type, "alert/" + Name, EventPayload,
                OutboxTargets.Payload(new AlertEvent(Name, next.Spec.Kind, next.State, change, next.Spec.Description)), change.At);
            outbox = outbox.Add(message, [.. (await webhooks.MatchingAsync(type)).Select(OutboxTarget.Webhook)]);
        }

        state.State = before with { Rule = next, Outbox = outbox };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }

        Outbox.Written();
    }
}
