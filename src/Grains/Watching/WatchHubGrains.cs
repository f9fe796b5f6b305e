using Microsoft.Extensions.Logging;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;

namespace NoOrg.Grains.Watching;

/// <summary>
/// A fan-out point for the watchers of every entity of a kind. It keeps nothing but its watchers and a counter:
/// each change it passes on gets the next number, so a watcher can tell a missed change from a quiet hub.
/// </summary>
public abstract class WatchHubGrain<TWatcher, TEvent>(ILogger logger) : Grain where TWatcher : IGrainObserver
{
    private readonly Guid epoch = Guid.NewGuid();
    private readonly WatcherSet<TWatcher> watchers = new(logger);
    private long number;

    private WatchPoint Point => new($"hub/{this.GetPrimaryKeyLong()}", epoch, number);

    public Task<WatchPoint> WatchAsync(TWatcher watcher)
    {
        watchers.Watch(watcher);
        return Task.FromResult(Point);
    }

    public Task UnwatchAsync(TWatcher watcher)
    {
        watchers.Unwatch(watcher);
        return Task.CompletedTask;
    }

    public Task PublishAsync(TEvent change)
    {
        if (watchers.Count > 0)
        {
            number++;
            var point = Point;
            return watchers.PushAsync(w => Push(w, change, point));
        }

        return Task.CompletedTask;
    }

    protected abstract Task Push(TWatcher watcher, TEvent change, WatchPoint point);
}

[Reentrant]
public sealed class TaskWatchHubGrain(ILogger<TaskWatchHubGrain> logger) : WatchHubGrain<ITaskWatcher, TaskEvent>(logger), ITaskWatchHubGrain
{
    protected override Task Push(ITaskWatcher watcher, TaskEvent change, WatchPoint point) => watcher.ChangedAsync(change, point);
}

[Reentrant]
public sealed class AgentWatchHubGrain(ILogger<AgentWatchHubGrain> logger) : WatchHubGrain<IAgentWatcher, AgentEvent>(logger), IAgentWatchHubGrain
{
    protected override Task Push(IAgentWatcher watcher, AgentEvent change, WatchPoint point) => watcher.ChangedAsync(change, point);
}

[Reentrant]
public sealed class SagaWatchHubGrain(ILogger<SagaWatchHubGrain> logger) : WatchHubGrain<ISagaWatcher, SagaLogEntry>(logger), ISagaWatchHubGrain
{
    protected override Task Push(ISagaWatcher watcher, SagaLogEntry change, WatchPoint point) => watcher.ChangedAsync(change, point);
}
