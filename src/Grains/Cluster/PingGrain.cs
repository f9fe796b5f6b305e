using System.Diagnostics;
using Orleans.Concurrency;

namespace NoOrg.Grains.Cluster;

/// <summary>
/// A stateless worker: every silo keeps local activations and calls never queue behind one another, so a ping
/// measures the round trip through the gateway and nothing else.
/// </summary>
[StatelessWorker]
public sealed class PingGrain(ILocalSiloDetails silo) : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;

    public Task<SiloMemory> MemoryAsync(bool collectFirst)
    {
        if (collectFirst)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        using var process = Process.GetCurrentProcess();
        return Task.FromResult(new SiloMemory(
            silo.SiloAddress.ToString(), process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false),
            GC.GetGCMemoryInfo().TotalCommittedBytes, Environment.ProcessorCount));
    }
}
