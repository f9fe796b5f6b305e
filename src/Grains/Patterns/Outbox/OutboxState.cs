namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// The part of a host grain's state that records outbox messages: only those new in the write at hand. The database
/// copies them into table <c>noorg_outbox</c> inside the same statement (migration 0015's triggers read
/// <c>payload.Outbox.New</c>, so a host keeps this record under a property named <c>Outbox</c>); the relay empties
/// <see cref="New"/> in memory once the write is stored, so each write carries only its own messages.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.state")]
public sealed record OutboxState
{
    /// <summary>Messages recorded by this write, in order: one entry per message and target.</summary>
    [Id(2)] public IReadOnlyList<OutboxEntry> New { get; init; } = [];

    /// <summary>
    /// This outbox with <paramref name="message"/> added once for each target. The message keeps the trace of the
    /// call recording it (when traced), so its delivery, whenever it runs, joins that trace.
    /// </summary>
    public OutboxState Add(OutboxMessage message, IEnumerable<OutboxTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(targets);
        var traced = message.TraceParent is null && Observability.NoOrgTracing.CurrentTraceParent() is { } parent ? message with { TraceParent = parent } : message;
        return this with { New = [.. New, .. targets.Select(t => new OutboxEntry(traced, t))] };
    }
}

/// <summary>One message for one target, with its delivery attempts so far (stored in its row, so back-off survives restarts).</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.entry")]
public sealed record OutboxEntry(
    OutboxMessage Message, OutboxTarget Target, int Attempts = 0, DateTimeOffset? NextAttemptAt = null, string? LastError = null)
{
    /// <summary>Identifies the entry within its outbox: one message can go to several targets.</summary>
    public bool SameAs(OutboxEntry other) => other is not null && other.Message.Id == Message.Id && other.Target == Target;

    public OutboxEntryView View(bool dead) =>
        new(Message.Id, Message.Type, Target.ToString(), Attempts, NextAttemptAt, LastError, dead);
}
