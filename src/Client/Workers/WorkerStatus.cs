namespace NoOrg.Client.Workers;

/// <summary>One task slot of a worker: the task it runs, and since when its calls to the cluster have been failing.</summary>
/// <param name="Slot">0 to MaxConcurrentTasks - 1.</param>
/// <param name="TaskId">The task the slot is working on, or null while it waits for one.</param>
/// <param name="FailingCall">What the slot keeps retrying ("start", "report"), or null while nothing fails.</param>
/// <param name="FailingSince">When that call first failed, or null.</param>
/// <param name="LastError">The latest failure, as type and message.</param>
public sealed record WorkerSlotStatus(int Slot, string? TaskId, string? FailingCall, DateTimeOffset? FailingSince, string? LastError)
{
    /// <summary>The slot has failed to get through for at least <paramref name="after"/>.</summary>
    public bool IsStalled(DateTimeOffset now, TimeSpan after) => FailingSince is { } since && now - since >= after;
}

/// <summary>The worker's connection to its agent grain (the heartbeat).</summary>
/// <param name="Connected">The last connect went through and admitted this process.</param>
/// <param name="FailingSince">When connecting first failed, or null while it works.</param>
/// <param name="LastError">The latest failure, as type and message.</param>
/// <param name="RefusedBecause">Set while the agent id is served by another worker process (see docs/agents.md).</param>
public sealed record WorkerConnectionStatus(bool Connected, DateTimeOffset? FailingSince, string? LastError, string? RefusedBecause);
