using NoOrg.Grains.Security;
namespace NoOrg.Grains.Sagas;

/// <summary>
/// The coordinator of one saga instance, keyed by saga id. Every change is in its durable log before the call
/// returns and before the side effect it announces. Also the engine behind a compensation scope: a saga whose steps
/// are recorded by its caller as work proceeds. Its lifecycle events are pushed to its watchers and leave through its outbox to webhooks.
/// </summary>
[Alias("noorg.sagas.saga")]
public interface ISagaGrain : IGrainWithStringKey, Patterns.Outbox.IOutboxGrain
{
    /// <summary>Starts the saga; calling again with the same definition and input returns it, with others is a conflict.</summary>
    [Alias("start")] Task<SagaSnapshot> StartAsync(string definition, string inputJson);

    /// <summary>Null when no saga with this id exists.</summary>
    [Alias("get")] Task<SagaSnapshot?> GetAsync();

    /// <summary>Oldest first.</summary>
    [Alias("log")] Task<Page<SagaLogEntry>> GetLogAsync(int skip, int take);

    /// <summary>Pushes this saga's log entries to <paramref name="watcher"/> for a minute (call again to renew); answers the sequence so far.</summary>
    [Alias("watch"), Requires(AccessRole.Reader)] Task<Watching.WatchPoint> WatchAsync(Watching.ISagaWatcher watcher);

    [Alias("unwatch"), Requires(AccessRole.Reader)] Task UnwatchAsync(Watching.ISagaWatcher watcher);

    /// <summary>Stops a running saga and compensates what it completed; the saga ends Cancelled.</summary>
    [Alias("cancel")] Task<SagaSnapshot> CancelAsync(string reason);

    /// <summary>Resumes the compensation of a saga in CompensationFailed, from the step that failed.</summary>
    [Alias("retry")] Task<SagaSnapshot> RetryAsync(string reason);

    /// <summary>A step or compensation grain reports an attempt's outcome (stale reports are ignored).</summary>
    [Alias("action-finished"), Requires(AccessRole.Admin)] Task ActionFinishedAsync(string stepId, SagaActionKind kind, SagaActionOutcome outcome);

    /// <summary>Opens a compensation scope under this id (idempotent for the same name).</summary>
    [Alias("begin-scope")] Task<SagaSnapshot> BeginScopeAsync(string name);

    /// <summary>
    /// Records that work <paramref name="stepId"/> was done and how to undo it: the registered compensation
    /// <paramref name="handler"/> with <paramref name="argumentsJson"/>. Idempotent for the same step id and content.
    /// </summary>
    [Alias("record")] Task<SagaSnapshot> RecordAsync(string stepId, string handler, string argumentsJson);

    /// <summary>The scope's work stands: its compensations are discarded.</summary>
    [Alias("commit")] Task<SagaSnapshot> CommitAsync();

    /// <summary>Runs the scope's compensations in reverse order, durably; returns at once (follow with Get or the stream).</summary>
    [Alias("abort")] Task<SagaSnapshot> AbortAsync(string reason);
}
