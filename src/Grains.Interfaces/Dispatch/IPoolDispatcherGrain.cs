using NoOrg.Grains.Security;
using System.Text.Json;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// Dispatch for one pool: the ready tasks that require the same capability list. It keeps their queue (priority, then
/// first come) and a view of the room of the agents that can serve them in memory, and places tasks concurrently; the
/// agent grain keeps the final say on capacity. Keyed by <see cref="DispatchPool.KeyOf"/> of the capability list.
/// </summary>
[Alias("noorg.dispatch.pool")]
[Requires(AccessRole.Admin)]
public interface IPoolDispatcherGrain : IGrainWithStringKey
{
    /// <summary>A task of this pool became ready (created, its dependencies done, or its back-off over).</summary>
    [Alias("enqueue"), OneWay] Task EnqueueAsync(QueuedTask task);

    /// <summary>An agent that can serve this pool reports its room.</summary>
    [Alias("capacity"), OneWay] Task CapacityAsync(AgentCapacity agent);

    /// <summary>
    /// Reads the pool's ready tasks from the index again, with <paramref name="storedForm"/> (the capability list as
    /// the index stores it) among the forms it looks for, refreshes the agents' room, and places what it can.
    /// </summary>
    [Alias("refresh"), OneWay] Task RefreshAsync(string storedForm);

    /// <summary>As <see cref="RefreshAsync"/>, then waits for the placements it started: how many were assigned.</summary>
    [Alias("sweep")] Task<int> SweepAsync(string storedForm);
}

/// <summary>A ready task as its pool orders it, with the trace its placement joins (<see cref="TaskSnapshot.TraceParent"/>).</summary>
[GenerateSerializer, Immutable, Alias("noorg.dispatch.queued-task")]
public sealed record QueuedTask(string Id, TaskPriority Priority, DateTimeOffset CreatedAt, string? TraceParent = null);

/// <summary>
/// An agent's room as the agent grain saw it when it sent the notice: what dispatch may place on it.
/// <paramref name="StateAt"/> is that moment (holds change in the agent's memory, without a write), so a notice that
/// arrives after a placement it does not know of can be told apart.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.dispatch.agent-capacity")]
public sealed record AgentCapacity(
    string AgentId, IReadOnlyList<string> Capabilities, int ActiveTasks, int MaxConcurrentTasks, bool AcceptsWork, bool Degraded,
    DateTimeOffset? StateAt = null)
{
    public bool HasRoom => AcceptsWork && ActiveTasks < MaxConcurrentTasks;
}

/// <summary>How a task's required capability list names its dispatch pool.</summary>
public static class DispatchPool
{
    /// <summary>The pool key: the list as compact JSON, in the task's own order.</summary>
    public static string KeyOf(IReadOnlyList<string>? capabilities) => JsonSerializer.Serialize(capabilities ?? []);

    public static IReadOnlyList<string> CapabilitiesOf(string key) => JsonSerializer.Deserialize<string[]>(key) ?? [];
}
