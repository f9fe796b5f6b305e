namespace NoOrg.Silo.Api;

// The bodies of operations whose grain methods take plain arguments rather than a record; everything else binds the
// contract records of NoOrg.Grains.Interfaces as they are.

/// <summary>Why (recorded in the history). An empty body means "by operator".</summary>
public sealed record ReasonRequest(string Reason = "by operator");

/// <summary>The agent to give the task to.</summary>
public sealed record AgentRequest(string AgentId);

/// <summary>
/// The agent holding an assigned task starts it. <c>attempt</c>, the task's attempt as the worker got it, makes a
/// repeated start recognisable (its answer was lost) and a stale one refused; without it any running attempt of the
/// agent counts as the repeat.
/// </summary>
public sealed record StartRequest(string AgentId, int? Attempt = null);

/// <summary>An HTTP worker's heartbeat of the attempt it runs.</summary>
public sealed record TaskHeartbeatRequest(string AgentId, int Attempt);

/// <summary>The worker gives the task back without failing the attempt (it is shutting down, or cannot take it now).</summary>
public sealed record HandBackRequest(string AgentId, int Attempt, string Reason = "handed back by its worker");

public sealed record ReassignRequest(string AgentId, string Reason = "by operator");

/// <summary>
/// What the agent holding a running task reports when it is done; <c>resultJson</c> is JSON text. With
/// <c>attempt</c>, a report of an attempt that is over is refused (409) instead of reaching a later one.
/// </summary>
public sealed record CompleteRequest(string AgentId, string ResultJson = "null", TimeSpan? ProcessingTime = null, int? Attempt = null);

public sealed record FailRequest(string AgentId, string Error, int? Attempt = null);

/// <summary>
/// A saga of a registered definition with its input (JSON text). Without <c>sagaId</c> one is chosen, derived from
/// the <c>Idempotency-Key</c> header when there is one.
/// </summary>
public sealed record SagaStartRequest(string Definition, string InputJson = "null", string? SagaId = null);

/// <summary>A webhook subscription; without <c>secret</c> a random one is made (and shown once, in the answer).</summary>
public sealed record WebhookRequest(string Url, IReadOnlyList<string> Events, string? Description = null, string? Secret = null);

/// <summary>Who acknowledges is the caller; the note says why or what is being done.</summary>
public sealed record AlertAckRequest(string? Note = null);

/// <summary>How long to silence a rule's notifications ("01:00:00"); zero lifts a silence.</summary>
public sealed record AlertSilenceRequest(TimeSpan For);
