using NoOrg.Grains.Dispatch;

namespace NoOrg.Silo.Hosting;

/// <summary>Wakes the dispatcher when a silo starts, so its sweep reminder exists before any task is created.</summary>
internal sealed class DispatchStarter(IGrainFactory grains) : IStartupTask
{
    public Task Execute(CancellationToken cancellationToken) =>
        grains.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).KickAsync();
}
