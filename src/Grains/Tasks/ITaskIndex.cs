
namespace NoOrg.Grains.Tasks;

/// <summary>
/// The task read model: one row per task plus incrementally maintained aggregates, in the cluster's database.
/// The database projects every task state write into it in the same statement, so a caller reads its own writes
/// and a crash cannot leave the index behind the state; listing, statistics and dispatch read it instead of
/// calling task grains.
/// </summary>
public interface ITaskIndex
{
    /// <summary>The task's history entries after the first <paramref name="skip"/> sequence numbers, oldest first.</summary>
    Task<IReadOnlyList<TaskEvent>> HistoryAsync(string taskId, int skip, int take, CancellationToken cancellationToken = default);

    Task<Page<TaskSummary>> QueryAsync(TaskQuery query, CancellationToken cancellationToken = default);

    Task<TaskStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Tasks per state from the maintained counters (one small query, no scan of the tasks).</summary>
    Task<IReadOnlyDictionary<TaskState, long>> CountByStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Median and p90 of the processing times of completed tasks of the type (and agent); null without samples.</summary>
    Task<DurationEstimate?> EstimateAsync(string type, string? agentId, CancellationToken cancellationToken = default);

    /// <summary>Pending tasks with no unfinished dependency whose back-off is over: highest priority first, then oldest.</summary>
    Task<IReadOnlyList<ReadyTask>> ReadyAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The ready tasks of one dispatch pool, in dispatch order: those whose stored capability list is
    /// <paramref name="pool"/> (a <see cref="Dispatch.DispatchPool.KeyOf"/> key) as this database stores it, or one of
    /// <paramref name="storedForms"/>.
    /// </summary>
    Task<IReadOnlyList<ReadyTask>> ReadyInPoolAsync(
        string pool, IReadOnlyCollection<string> storedForms, DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>The distinct stored capability lists of ready tasks: the pools that have work.</summary>
    Task<IReadOnlyList<string>> ReadyPoolsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>State and holder of each of <paramref name="taskIds"/> that exists, in one query.</summary>
    Task<IReadOnlyList<TaskHolding>> HoldingsAsync(IReadOnlyList<string> taskIds, CancellationToken cancellationToken = default);

    /// <summary>The tasks <paramref name="agentId"/> holds (assigned to it, or running on it), oldest first.</summary>
    Task<IReadOnlyList<string>> HeldByAsync(string agentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tasks whose time-out or deadline (their stored <see cref="TaskGrainState.DueAt"/>) is at or before
    /// <paramref name="now"/>, soonest first, among those whose slot (0 to 255, from the state's key) is in
    /// [<paramref name="fromSlot"/>, <paramref name="toSlot"/>): one due shard's share.
    /// </summary>
    Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int fromSlot, int toSlot, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Terminal tasks that finished before <paramref name="cutoff"/>, oldest first (then by id), after
    /// <paramref name="after"/> when given: a keyset page, so a caller can go past tasks it could not remove.
    /// </summary>
    Task<IReadOnlyList<FinishedTask>> FinishedBeforeAsync(DateTimeOffset cutoff, int limit, FinishedTask? after = null, CancellationToken cancellationToken = default);
}

/// <summary>A finished task as retention pages through them: its id and when it finished (the page key).</summary>
public sealed record FinishedTask(string Id, DateTimeOffset FinishedAt);

/// <summary>What dispatch needs to place a task without calling it.</summary>
/// <param name="StoredCapabilities">The capability list exactly as the index stores it: the key of its dispatch pool.</param>
public sealed record ReadyTask(
    string Id, TaskPriority Priority, IReadOnlyList<string> RequiredCapabilities, DateTimeOffset CreatedAt, string StoredCapabilities = "[]");

/// <summary>Who holds a task, from the index: what an agent checks its own list of held tasks against.</summary>
public sealed record TaskHolding(string TaskId, TaskState State, string? AssignedTo);
