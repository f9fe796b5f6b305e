using Microsoft.Extensions.Logging;
using NoOrg.Grains.Watching;
using Orleans.Utilities;

namespace NoOrg.Grains.Watching;

/// <summary>
/// The watchers of one grain, in memory only: a watcher that does not renew within <see cref="Lifetime"/> is dropped.
/// Pushes are one-way, so a slow or gone watcher never holds up the change that produced them.
/// </summary>
internal sealed class WatcherSet<TWatcher>(ILogger logger) where TWatcher : IGrainObserver
{
    /// <summary>Clients renew every 10 s; a minute covers a few lost renewals.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly ObserverManager<TWatcher> watchers = new(Lifetime, logger);

    public int Count => watchers.Count;

    public void Watch(TWatcher watcher) => watchers.Subscribe(watcher, watcher);

    public void Unwatch(TWatcher watcher) => watchers.Unsubscribe(watcher);

    /// <summary>The pushes are one-way calls: this returns once they are queued, and drops the watchers that are gone.</summary>
    public Task PushAsync(Func<TWatcher, Task> push) => watchers.Count > 0 ? watchers.Notify(push) : Task.CompletedTask;
}

/// <summary>
/// What an entity grain does with a committed change: push it to its own watchers (numbered by the entity's
/// sequence) and hand it to its hub for the watchers of all. Best effort by design: a watcher that misses a push sees
/// the gap in the sequence and reads the history, which is durable.
/// </summary>
internal sealed class ChangeFeed<TWatcher, TEvent>(
    string source, ILogger logger, Func<TWatcher, TEvent, WatchPoint, Task> push, Func<TEvent, Task> toHub, Func<TEvent, long> sequence)
    where TWatcher : IGrainObserver
{
    private readonly WatcherSet<TWatcher> watchers = new(logger);

    public WatchPoint Watch(TWatcher watcher, long current)
    {
        watchers.Watch(watcher);
        return new WatchPoint(source, Guid.Empty, current);
    }

    public void Unwatch(TWatcher watcher) => watchers.Unwatch(watcher);

    public async Task PublishAsync(IEnumerable<TEvent> changes)
    {
        foreach (var change in changes)
        {
            var point = new WatchPoint(source, Guid.Empty, sequence(change));
            try
            {
                await watchers.PushAsync(w => push(w, change, point));
                await toHub(change); // one-way: returns once the message is queued
            }
            catch (Exception e)
            {
                LogHubFailed(logger, source, e);
            }
        }
    }

    private static void LogHubFailed(ILogger logger, string source, Exception e) =>
        logger.LogWarning(e, "{Source}: a change could not be pushed to its watchers; they will see the gap", source);
}
