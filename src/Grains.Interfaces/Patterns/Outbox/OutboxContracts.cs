namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>Where an outbox message goes.</summary>
public enum OutboxTargetKind
{
    /// <summary>A grain implementing <see cref="IOutboxReceiver"/>; <see cref="OutboxTarget.Address"/> is its grain id.</summary>
    Grain,

    /// <summary>An Orleans stream; <see cref="OutboxTarget.Address"/> is "provider/namespace", <see cref="OutboxTarget.Key"/> the stream key.</summary>
    Stream,

    /// <summary>An HTTP webhook subscription; <see cref="OutboxTarget.Address"/> is the subscription id.</summary>
    Webhook,
}

/// <summary>One destination of an outbox message. Plain strings, so it survives any restart and any silo.</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.target")]
public sealed record OutboxTarget(OutboxTargetKind Kind, string Address, string? Key = null)
{
    public static OutboxTarget Grain(GrainId receiver) => new(OutboxTargetKind.Grain, receiver.ToString());

    /// <summary>A stream of <paramref name="provider"/> (a name without '/').</summary>
    public static OutboxTarget Stream(string provider, string streamNamespace, string key) =>
        new(OutboxTargetKind.Stream, provider + "/" + streamNamespace, key);

    public static OutboxTarget Webhook(string subscriptionId) => new(OutboxTargetKind.Webhook, subscriptionId);

    public override string ToString() => Key is null ? $"{Kind.ToString().ToLowerInvariant()}:{Address}" : $"{Kind.ToString().ToLowerInvariant()}:{Address}/{Key}";
}

/// <summary>
/// A message recorded in an outbox. <see cref="Id"/> is what receivers de-duplicate on: make it deterministic from
/// the change that caused it (<c>task:{id}:{sequence}</c>), so a repeated change is recognisable too.
/// <see cref="PayloadType"/> names the registered payload type (<c>OutboxRegistry.AddPayload</c>) streams publish.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.message")]
public sealed record OutboxMessage(string Id, string Type, string Source, string PayloadType, string PayloadJson, DateTimeOffset CreatedAt, string? TraceParent = null);

/// <summary>What an <see cref="IOutboxReceiver"/> gets: the message and which delivery attempt this is (1 = first).</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.delivery")]
public sealed record OutboxDelivery(OutboxMessage Message, int Attempt);

/// <summary>One message waiting in (or dead-lettered from) a grain's outbox, for operators.</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.entry-view")]
public sealed record OutboxEntryView(
    string MessageId, string Type, string Target, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError, bool Dead);

/// <summary>Grains with outbox messages of one state name (a grain type), from the outbox table.</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.summary")]
public sealed record OutboxSummary(string StateName, int GrainsWithPending, int PendingMessages, int GrainsWithDeadLetters, int DeadLetters);

/// <summary>A grain holding dead letters, by state name and key: <c>noorg outbox retry STATE KEY</c>.</summary>
[GenerateSerializer, Immutable, Alias("noorg.outbox.dead-host")]
public sealed record OutboxDeadHost(string StateName, string Key, int DeadLetters);
