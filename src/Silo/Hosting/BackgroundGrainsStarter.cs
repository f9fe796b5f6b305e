using NoOrg.Grains.Dispatch;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Hosting;

/// <summary>
/// Wakes the cluster's background grains when a silo starts: the dispatcher (so its sweep reminder exists before
/// any task is created) and task retention (so its clean-up reminder exists with the configured period).
/// </summary>
internal sealed class BackgroundGrainsStarter(IGrainFactory grains) : IStartupTask
{
    public async Task Execute(CancellationToken cancellationToken)
    {
        await grains.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).KickAsync();
        await grains.GetGrain<ITaskRetentionGrain>(ITaskRetentionGrain.Key).EnsureScheduledAsync();
    }
}
