namespace NoOrg.Grains.Sagas;

/// <summary>
/// Lifecycle of a saga. Completed, Compensated and Cancelled are terminal; CompensationFailed waits for an operator
/// (<see cref="ISagaGrain.RetryAsync"/> resumes the compensation).
/// </summary>
public enum SagaStatus { Running, Compensating, Completed, Compensated, Cancelled, CompensationFailed }

/// <summary>Where one step of a saga stands, forwards and backwards.</summary>
public enum SagaStepPhase { Pending, Running, Succeeded, Failed, Compensating, Compensated, CompensationFailed }

/// <summary>Step-level entries name a step and an attempt; the others are transitions of the saga itself.</summary>
public enum SagaLogAction
{
    SagaStarted, StepStarted, StepSucceeded, StepRetryScheduled, StepFailed, Compensating, CompensationStarted,
    Compensated, CompensationRetryScheduled, CompensationFailed, SagaCompleted, SagaCompensated, SagaCancelled,
    SagaCompensationFailed, CancelRequested, RetryRequested, CompensationRecorded, Committed, Aborted,
}

/// <summary>
/// One entry of a saga's durable log, and the event its watchers receive. Entries that announce a side effect
/// (StepStarted, CompensationStarted) are stored before the effect is asked for.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.log-entry")]
public sealed record SagaLogEntry(
    string SagaId,
    long Sequence,
    DateTimeOffset At,
    SagaLogAction Action,
    SagaStatus Status,
    string? StepId = null,
    int Attempt = 0,
    string? Detail = null);

/// <summary>One step of a running saga as its coordinator sees it.</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.step")]
public sealed record SagaStepSnapshot(
    string StepId,
    int Group,
    SagaStepPhase Phase,
    int Attempt,
    int CompensationAttempt,
    bool HasCompensation,
    string? OutputJson,
    string? Error);

[GenerateSerializer, Immutable, Alias("noorg.sagas.snapshot")]
public sealed record SagaSnapshot(
    string Id,
    string Definition,
    SagaStatus Status,
    string InputJson,
    IReadOnlyList<SagaStepSnapshot> Steps,
    string? FailedStep,
    string? Error,
    bool CancelRequested,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt,
    long Version)
{
    public bool IsTerminal => Status is SagaStatus.Completed or SagaStatus.Compensated or SagaStatus.Cancelled;

    /// <summary>The output JSON of each step that succeeded, by step id.</summary>
    public IReadOnlyDictionary<string, string> Outputs =>
        Steps.Where(s => s.OutputJson is not null).ToDictionary(s => s.StepId, s => s.OutputJson!, StringComparer.Ordinal);
}

/// <summary>Filters for listing sagas; every non-null criterion must hold.</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.query")]
public sealed record SagaQuery(SagaStatus? Status = null, string? Definition = null, int Skip = 0, int Take = 100);

/// <summary>The list view of a saga, served from the saga index.</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.summary")]
public sealed record SagaSummary(
    string Id,
    string Definition,
    SagaStatus Status,
    string? FailedStep,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? FinishedAt);

[GenerateSerializer, Immutable, Alias("noorg.sagas.statistics")]
public sealed record SagaStatistics(
    long Total,
    IReadOnlyDictionary<SagaStatus, long> ByStatus,
    IReadOnlyDictionary<string, long> ByDefinition,
    TimeSpan? MedianDuration,
    TimeSpan? P90Duration,
    DateTimeOffset ComputedAt);

/// <summary>What a silo knows about a registered saga definition.</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.definition-info")]
public sealed record SagaDefinitionInfo(string Name, string Description, IReadOnlyList<SagaStepInfo> Steps);

[GenerateSerializer, Immutable, Alias("noorg.sagas.step-info")]
public sealed record SagaStepInfo(
    string Id,
    int Group,
    string Kind,
    string? CompensationKind,
    TimeSpan Timeout,
    int MaxAttempts,
    TimeSpan Backoff);

public enum SagaActionKind { Step, Compensation }

/// <summary>
/// What a coordinator asks a step or compensation grain to do. The grain's key, <c>{sagaId}:{stepId}</c>, is the
/// idempotency key; <see cref="Handler"/> names a registered compensation for steps recorded in a compensation scope.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.action-request")]
public sealed record SagaActionRequest(
    string SagaId,
    string Definition,
    string StepId,
    int Attempt,
    string InputJson,
    IReadOnlyDictionary<string, string> Outputs,
    string? Handler = null);

/// <summary>The recorded outcome of one attempt of a step or compensation.</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.action-outcome")]
public sealed record SagaActionOutcome(int Attempt, bool Succeeded, string? OutputJson, string? Error);
