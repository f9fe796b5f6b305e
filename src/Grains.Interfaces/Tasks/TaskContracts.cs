namespace NoOrg.Grains.Tasks;

/// <summary>Lifecycle of a task. Completed, failed and cancelled are terminal.</summary>
public enum TaskState { Pending, Assigned, Running, Completed, Failed, Cancelled }

public enum TaskPriority { Low, Medium, High, Critical }

/// <summary>Everything a caller says about a new task.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.spec")]
public sealed record TaskSpec(
    string Name,
    string Type,
    string Description = "",
    string InputJson = "null",
    TaskPriority Priority = TaskPriority.Medium,
    IReadOnlyList<string>? RequiredCapabilities = null,
    IReadOnlyList<string>? DependsOn = null,
    string? ParentId = null,
    TimeSpan? Timeout = null,
    int MaxAttempts = 3,
    TimeSpan? RetryBackoff = null,
    DateTimeOffset? Deadline = null,
    string? IdempotencyKey = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>A change to a task that is not finished; null fields stay as they are, metadata is merged.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.update")]
public sealed record TaskUpdate(
    string? Name = null,
    string? Description = null,
    TaskPriority? Priority = null,
    DateTimeOffset? Deadline = null,
    IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>
/// A task as it is now. <paramref name="TraceParent"/> is the W3C <c>traceparent</c> of the call that created it, when
/// that call was traced: the spans of its later work (placement, the worker's run) join that trace.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.snapshot")]
public sealed record TaskSnapshot(
    string Id,
    TaskSpec Spec,
    TaskState State,
    string? AssignedTo,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? NextAttemptAt,
    string? ResultJson,
    string? Error,
    TimeSpan? ProcessingTime,
    IReadOnlyList<string> WaitingOn,
    string? UnassignableReason,
    long Version,
    string? TraceParent = null)
{
    public bool IsTerminal => State is TaskState.Completed or TaskState.Failed or TaskState.Cancelled;

    /// <summary>Ready for dispatch: pending, no unfinished dependency, not waiting out a retry back-off.</summary>
    public bool IsReady(DateTimeOffset now) => State == TaskState.Pending && WaitingOn.Count == 0 && (NextAttemptAt is null || NextAttemptAt <= now);
}

public enum TaskAction
{
    Created, Updated, Assigned, Unassigned, Reassigned, Started, Completed, Failed, RetryScheduled, Cancelled,
    DependencySatisfied, Unassignable, TimedOut, DeadlineExceeded, AgentLost,
}

/// <summary>One entry of a task's history, and the event its watchers receive: what, when, by whom, why.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.event")]
public sealed record TaskEvent(
    string TaskId,
    long Sequence,
    DateTimeOffset At,
    TaskAction Action,
    TaskState From,
    TaskState To,
    string Actor,
    string? Reason = null,
    string? FromAgent = null,
    string? ToAgent = null);

/// <summary>Filters for listing tasks; every non-null criterion must hold. Ranges are inclusive.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.query")]
public sealed record TaskQuery(
    IReadOnlyList<TaskState>? States = null,
    IReadOnlyList<string>? Types = null,
    IReadOnlyList<TaskPriority>? Priorities = null,
    string? AssignedTo = null,
    DateTimeOffset? CreatedAfter = null,
    DateTimeOffset? CreatedBefore = null,
    DateTimeOffset? UpdatedAfter = null,
    DateTimeOffset? UpdatedBefore = null,
    int Skip = 0,
    int Take = 100);

/// <summary>The list view of a task, served from the task index.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.summary")]
public sealed record TaskSummary(
    string Id,
    string Name,
    string Type,
    TaskState State,
    TaskPriority Priority,
    string? AssignedTo,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Expected processing time for a task type (and agent), from completed history or, without any, a prior.</summary>
[GenerateSerializer, Immutable, Alias("noorg.tasks.estimate")]
public sealed record DurationEstimate(
    string Type,
    string? AgentId,
    TimeSpan Median,
    TimeSpan P90,
    int SampleCount,
    bool FromPrior);

[GenerateSerializer, Immutable, Alias("noorg.tasks.statistics")]
public sealed record TaskStatistics(
    long Total,
    IReadOnlyDictionary<TaskState, long> ByState,
    IReadOnlyDictionary<TaskPriority, long> ByPriority,
    IReadOnlyDictionary<string, long> ByType,
    TimeSpan? MedianProcessingTime,
    TimeSpan? P90ProcessingTime,
    double? SuccessRate,
    double CompletionsPerMinute,
    DateTimeOffset ComputedAt);
