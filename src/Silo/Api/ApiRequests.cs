namespace NoOrg.Silo.Api;

// The bodies of operations whose grain methods take plain arguments rather than a record; everything else binds the
// contract records of NoOrg.Grains.Interfaces as they are.

/// <summary>Why (recorded in the history). An empty body means "by operator".</summary>
public sealed record ReasonRequest(string Reason = "by operator");

/// <summary>The agent to give the task to (assign), or that reports on it (start).</summary>
public sealed record AgentRequest(string AgentId);

public sealed record ReassignRequest(string AgentId, string Reason = "by operator");

/// <summary>What the agent holding a running task reports when it is done; <c>resultJson</c> is JSON text.</summary>
public sealed record CompleteRequest(string AgentId, string ResultJson = "null", TimeSpan? ProcessingTime = null);

public sealed record FailRequest(string AgentId, string Error);

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
