using NoOrg.Grains.Security;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;

namespace NoOrg.Grains.Watching;

/// <summary>
/// Where a pushed change sits in its source, so a watcher can tell whether it missed one. For one task, agent or saga
/// the source is that entity and <see cref="Number"/> its event sequence; for a hub it is the hub, numbered from 1 in
/// each <see cref="Epoch"/> (one activation of the hub: a new epoch means changes may have gone by unseen).
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.watch.point")]
public sealed record WatchPoint(string Source, Guid Epoch, long Number);

/// <summary>
/// Changes are pushed one-way right after their commit: to the watchers of the entity, and to one of
/// <see cref="Count"/> hubs per kind for the watchers of all of them. Nothing is stored per watcher or per entity.
/// </summary>
public static class WatchHubs
{
    /// <summary>Hubs per kind; every silo and client must agree on it, so it is not a setting.</summary>
    public const int Count = 8;

    /// <summary>The hub of an entity: a hash that every process computes the same way.</summary>
    public static int Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[16];
        MD5.HashData(Encoding.UTF8.GetBytes(key), hash);
        return (int)(BinaryPrimitives.ReadUInt32LittleEndian(hash) % Count);
    }
}

/// <summary>Receives task changes (a client's observer).</summary>
[Alias("noorg.watch.task-watcher")]
public interface ITaskWatcher : IGrainObserver
{
    [Alias("changed"), OneWay] Task ChangedAsync(TaskEvent change, WatchPoint point);
}

/// <summary>Receives agent changes (a client's observer).</summary>
[Alias("noorg.watch.agent-watcher")]
public interface IAgentWatcher : IGrainObserver
{
    [Alias("changed"), OneWay] Task ChangedAsync(AgentEvent change, WatchPoint point);
}

/// <summary>Receives saga log entries (a client's observer).</summary>
[Alias("noorg.watch.saga-watcher")]
public interface ISagaWatcher : IGrainObserver
{
    [Alias("changed"), OneWay] Task ChangedAsync(SagaLogEntry change, WatchPoint point);
}

/// <summary>
/// One of <see cref="WatchHubs.Count"/> fan-out points for the watchers of every task (key 0 to Count - 1).
/// A subscription lasts a minute unless renewed by watching again; the answer says where the hub stands.
/// </summary>
[Alias("noorg.watch.task-hub")]
[Requires(AccessRole.Reader)]
public interface ITaskWatchHubGrain : IGrainWithIntegerKey
{
    [Alias("watch")] Task<WatchPoint> WatchAsync(ITaskWatcher watcher);

    [Alias("unwatch")] Task UnwatchAsync(ITaskWatcher watcher);

    /// <summary>Silo side: a task grain hands over a committed change.</summary>
    [Alias("publish"), OneWay] Task PublishAsync(TaskEvent change);
}

/// <summary>The agents' counterpart of <see cref="ITaskWatchHubGrain"/>.</summary>
[Alias("noorg.watch.agent-hub")]
[Requires(AccessRole.Reader)]
public interface IAgentWatchHubGrain : IGrainWithIntegerKey
{
    [Alias("watch")] Task<WatchPoint> WatchAsync(IAgentWatcher watcher);

    [Alias("unwatch")] Task UnwatchAsync(IAgentWatcher watcher);

    [Alias("publish"), OneWay] Task PublishAsync(AgentEvent change);
}

/// <summary>The sagas' counterpart of <see cref="ITaskWatchHubGrain"/>.</summary>
[Alias("noorg.watch.saga-hub")]
[Requires(AccessRole.Reader)]
public interface ISagaWatchHubGrain : IGrainWithIntegerKey
{
    [Alias("watch")] Task<WatchPoint> WatchAsync(ISagaWatcher watcher);

    [Alias("unwatch")] Task UnwatchAsync(ISagaWatcher watcher);

    [Alias("publish"), OneWay] Task PublishAsync(SagaLogEntry change);
}
