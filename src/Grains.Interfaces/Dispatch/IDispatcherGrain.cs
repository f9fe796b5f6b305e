using NoOrg.Grains.Security;
using Orleans.Concurrency;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// The cluster's dispatch directory (key 0): it knows which pools (<see cref="IPoolDispatcherGrain"/>) wait for
/// agents and passes agents' room on to the pools they can serve, and it sweeps the task index so that a pool whose
/// notices were lost with a silo is looked at again. Placing is done by the pools, side by side.
/// </summary>
[Alias("noorg.dispatch.dispatcher")]
public interface IDispatcherGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Sweep soon: every pool with ready tasks reads them from the index again.</summary>
    [Alias("kick"), OneWay, Requires(AccessRole.Admin)] Task KickAsync();

    /// <summary>An agent's room changed (it registered, freed a slot, or accepts work again).</summary>
    [Alias("capacity"), OneWay, Requires(AccessRole.Admin)] Task CapacityAsync(AgentCapacity agent);

    /// <summary>A pool has tasks and wants to hear about agents' room (<paramref name="waiting"/>), or no longer does.</summary>
    [Alias("interest"), OneWay, Requires(AccessRole.Admin)] Task InterestAsync(string pool, bool waiting);

    /// <summary>Sweeps every pool with ready tasks now and returns how many tasks they assigned.</summary>
    [Alias("dispatch-now")] Task<int> DispatchNowAsync();
}
