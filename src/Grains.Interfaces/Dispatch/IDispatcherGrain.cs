using Orleans.Concurrency;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// Places ready tasks on capable agents: critical before high before medium before low, first come first served
/// within a priority, least-loaded agent first, never beyond an agent's limit. One per cluster (key 0).
/// </summary>
[Alias("noorg.dispatch.dispatcher")]
public interface IDispatcherGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Something changed (a task became ready, an agent freed capacity): run a dispatch pass soon.</summary>
    [Alias("kick"), OneWay] Task KickAsync();

    /// <summary>
    /// An agent with these capabilities has room (it registered, freed a slot, or accepts work again): tasks it could
    /// serve that were waiting for capacity are looked at again.
    /// </summary>
    [Alias("capacity"), OneWay] Task CapacityAsync(IReadOnlyList<string> capabilities);

    /// <summary>Runs one dispatch pass now and returns how many tasks were assigned.</summary>
    [Alias("dispatch-now")] Task<int> DispatchNowAsync();
}
