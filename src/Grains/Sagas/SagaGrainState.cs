namespace NoOrg.Grains.Sagas;

/// <summary>
/// What a saga coordinator stores: the saga, the plan it started with (so definition changes never reshape a running
/// saga), where each step stands, and the log. One write holds all of it, so the log and the state never disagree.
/// </summary>
[GenerateSerializer, Alias("noorg.sagas.saga-state")]
public sealed record SagaGrainState
{
    /// <summary>Null until the saga is started (or the scope opened).</summary>
    [Id(0)] public string? Definition { get; init; }
    [Id(1)] public SagaStatus Status { get; init; }
    [Id(2)] public string InputJson { get; init; } = "null";
    [Id(3)] public bool IsScope { get; init; }
    [Id(4)] public bool CancelRequested { get; init; }
    [Id(5)] public string? FailedStep { get; init; }
    [Id(6)] public string? Error { get; init; }
    [Id(7)] public DateTimeOffset CreatedAt { get; init; }
    [Id(8)] public DateTimeOffset UpdatedAt { get; init; }
    [Id(9)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(10)] public long Version { get; init; }
    [Id(11)] public IReadOnlyList<SagaStepProgress> Steps { get; init; } = [];
    [Id(12)] public IReadOnlyList<SagaLogEntry> Log { get; init; } = [];

    /// <summary>The lifecycle events this write records; the database keeps them as rows until delivered.</summary>
    [Id(13)] public Patterns.Outbox.OutboxState Outbox { get; init; } = new();

    public bool IsTerminal => Status is SagaStatus.Completed or SagaStatus.Compensated or SagaStatus.Cancelled;
}

/// <summary>
/// One step in the coordinator: its plan (group, policies, the named compensation of a scope step) and progress.
/// <see cref="Deadline"/> is set while an attempt (forward or compensation) is in flight; <see cref="NextAttemptAt"/>
/// while a failed attempt waits out its back-off. <see cref="CompensationRetryBase"/> is the compensation attempt an
/// operator's retry started counting from. <see cref="MayHaveApplied"/> marks a step with an attempt that was abandoned
/// (timed out, or cancelled) before it reported: its effect may have happened, so it is compensated even if it fails.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.step-progress")]
public sealed record SagaStepProgress(
    string StepId,
    int Group,
    bool HasCompensation,
    SagaPolicy Policy,
    SagaPolicy CompensationPolicy,
    SagaStepPhase Phase = SagaStepPhase.Pending,
    int Attempt = 0,
    int CompensationAttempt = 0,
    DateTimeOffset? Deadline = null,
    DateTimeOffset? NextAttemptAt = null,
    string? OutputJson = null,
    string? Error = null,
    string? Handler = null,
    string? ArgumentsJson = null,
    int CompensationRetryBase = 0,
    bool MayHaveApplied = false)
{
    public bool InFlight => Deadline is not null;

    public SagaStepSnapshot ToSnapshot() => new(StepId, Group, Phase, Attempt, CompensationAttempt, HasCompensation, OutputJson, Error);
}
