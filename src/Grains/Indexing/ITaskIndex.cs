using NoOrg.Grains.Tasks;

namespace NoOrg.Grains.Indexing;

/// <summary>
/// The task read model: one row per task plus incrementally maintained aggregates, in the cluster's database.
/// Task grains project every change into it before acknowledging, so a caller reads its own writes; listing,
/// statistics and dispatch read it instead of calling task grains.
/// </summary>
public interface ITaskIndex
{
    /// <summary>Upserts the task's row and adjusts the aggregates in one transaction; ignores a version not newer than the stored one.</summary>
    Task ProjectAsync(TaskSnapshot task, CancellationToken cancellationToken = default);

    /// <summary>Deletes the row (retention) and removes it from the aggregates; completion samples are kept.</summary>
    Task RemoveAsync(string taskId, CancellationToken cancellationToken = default);

    Task<Page<TaskSummary>> QueryAsync(TaskQuery query, CancellationToken cancellationToken = default);

    Task<TaskStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Median and p90 of the processing times of completed tasks of the type (and agent); null without samples.</summary>
    Task<DurationEstimate?> EstimateAsync(string type, string? agentId, CancellationToken cancellationToken = default);

    /// <summary>Pending tasks with no unfinished dependency whose back-off is over: highest priority first, then oldest.</summary>
    Task<IReadOnlyList<ReadyTask>> ReadyAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Terminal tasks that finished before <paramref name="cutoff"/>, oldest first.</summary>
    Task<IReadOnlyList<string>> FinishedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken = default);
}

/// <summary>What dispatch needs to place a task without calling it.</summary>
public sealed record ReadyTask(string Id, TaskPriority Priority, IReadOnlyList<string> RequiredCapabilities, DateTimeOffset CreatedAt);
