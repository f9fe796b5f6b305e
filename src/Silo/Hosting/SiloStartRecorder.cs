using NoOrg.Grains.Cluster;

namespace NoOrg.Silo.Hosting;

/// <summary>Adds this silo's start to the cluster's durable history once the silo is up.</summary>
internal sealed class SiloStartRecorder(IGrainFactory grains, ILocalSiloDetails silo, TimeProvider clock) : IStartupTask
{
    public Task Execute(CancellationToken cancellationToken) =>
        grains.GetGrain<IClusterHistoryGrain>(IClusterHistoryGrain.Key)
            .RecordSiloStartAsync(new SiloStart(silo.Name, silo.SiloAddress.ToString(), clock.GetUtcNow()));
}
