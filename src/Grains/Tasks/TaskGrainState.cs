using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Grains.Tasks;

/// <summary>What a task grain stores: the task itself, what it was created from, who waits on it, and its newest history entry.</summary>
[GenerateSerializer, Alias("noorg.tasks.task-state")]
public sealed record TaskGrainState
{
    /// <summary>Null until the task is created (and again after it is purged).</summary>
    [Id(0)] public TaskSnapshot? Task { get; init; }

    /// <summary>SHA-256 of the spec the task was created with: a repeated create is recognised by it.</summary>
    [Id(1)] public string SpecHash { get; init; } = "";

    /// <summary>Tasks that depend on this one; each is told when this one finishes.</summary>
    [Id(2)] public IReadOnlyList<string> Dependents { get; init; } = [];

    /// <summary>
    /// The history entry of the change this state was written for. The database appends it to the task's history
    /// (noorg_task_events) in the same statement, so a task write never carries its whole history.
    /// </summary>
    [Id(3)] public IReadOnlyList<TaskEvent> NewEvents { get; init; } = [];

    /// <summary>Entries ever recorded, including those dropped; the last entry's sequence number.</summary>
    [Id(4)] public long HistoryTotal { get; init; }

    /// <summary>How many of the newest entries the database keeps (<c>NOORG_TASKS_HISTORY_LIMIT</c> when written).</summary>
    [Id(6)] public int HistoryLimit { get; init; }

    /// <summary>
    /// When the task must be looked at even if nobody calls it: its running attempt's time-out or its deadline
    /// (<see cref="TaskChanges.DueAt"/>). The database keeps it in <c>noorg_task_due</c> (migration 0020), where the
    /// due shards find it after a silo loss or a deactivation; null when there is nothing to wait for.
    /// </summary>
    [Id(7)] public DateTimeOffset? DueAt { get; init; }

    /// <summary>The messages this write records (events for streams and webhooks, notices to dependents); the database keeps them as rows until delivered.</summary>
    [Id(5)] public OutboxState Outbox { get; init; } = new();
}
