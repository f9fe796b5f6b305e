namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// The outbox a grain embeds in its own persisted state, so a change and the messages it causes are one row write.
/// The property names (<c>Outbox.Pending</c>, <c>Outbox.Dead</c>) are what migration 0009's partial indexes read:
/// a host keeps this record under a property named <c>Outbox</c> of its state.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.state")]
public sealed record OutboxState
{
    /// <summary>Messages still to deliver, in the order they were recorded.</summary>
    [Id(0)] public IReadOnlyList<OutboxEntry> Pending { get; init; } = [];

    /// <summary>Messages given up on after the maximum attempts, with their last error, until an operator retries them.</summary>
    [Id(1)] public IReadOnlyList<OutboxEntry> Dead { get; init; } = [];

    [System.Text.Json.Serialization.JsonIgnore] public bool IsEmpty => Pending.Count == 0;

    /// <summary>This outbox with <paramref name="message"/> added once for each target.</summary>
    public OutboxState Add(OutboxMessage message, IEnumerable<OutboxTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(targets);
        return this with { Pending = [.. Pending, .. targets.Select(t => new OutboxEntry(message, t))] };
    }
}

/// <summary>One message for one target, with its delivery attempts so far (persisted, so back-off survives restarts).</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.entry")]
public sealed record OutboxEntry(
    OutboxMessage Message, OutboxTarget Target, int Attempts = 0, DateTimeOffset? NextAttemptAt = null, string? LastError = null)
{
    /// <summary>Identifies the entry within its outbox: one message can go to several targets.</summary>
    public bool SameAs(OutboxEntry other) => other is not null && other.Message.Id == Message.Id && other.Target == Target;

    public OutboxEntryView View(bool dead) =>
        new(Message.Id, Message.Type, Target.ToString(), Attempts, NextAttemptAt, LastError, dead);
}
