using NoOrg.Grains.Watching;

namespace NoOrg.Client.Watching;

/// <summary>The grains one watch subscribes to, with the observer reference they push to (released on dispose).</summary>
internal sealed class WatchSources(Func<Task<IReadOnlyList<WatchPoint>>> watch, Func<Task> unwatch, Action release) : IDisposable
{
    /// <summary>Subscribes, or renews, at every source; answers where each stands.</summary>
    public Task<IReadOnlyList<WatchPoint>> WatchAsync() => watch();

    public Task UnwatchAsync() => unwatch();

    public void Dispose() => release();
}
