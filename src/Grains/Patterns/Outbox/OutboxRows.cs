namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>The grain an outbox row belongs to: its service, its state name (one per grain type) and its string key.</summary>
internal sealed record OutboxOwner(string ServiceId, string StateName, string Key);

/// <summary>Names one row of <c>noorg_outbox</c>: a message for one target, of one owner.</summary>
internal readonly record struct OutboxRowKey(OutboxOwner Owner, string MessageId, OutboxTarget Target)
{
    public static OutboxRowKey Of(OutboxOwner owner, OutboxEntry entry) => new(owner, entry.Message.Id, entry.Target);
}

/// <summary>A stored outbox row as its relay works with it.</summary>
internal sealed record OutboxRow(OutboxEntry Entry, bool Dead);
