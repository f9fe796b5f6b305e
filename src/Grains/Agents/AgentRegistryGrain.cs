using System.Data.Common;
using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Agents;

/// <summary>Discovery, answered from the registry index by whichever silo takes the call: no single grain in the way.</summary>
[StatelessWorker]
public sealed class AgentRegistryGrain(IAgentIndex index) : Grain, IAgentRegistryGrain
{
    public Task<Page<AgentSummary>> FindAsync(AgentQuery query) => ReadAsync(() => index.FindAsync(query));

    public Task<AgentCounts> CountAsync() => ReadAsync(() => index.CountAsync());

    public Task<IReadOnlyList<string>> CapabilitiesAsync() => ReadAsync(() => index.CapabilitiesAsync());

    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (DbException e)
        {
            // A driver's exception cannot cross the wire (no codec): the caller gets its message instead.
            throw new NoOrgException($"The agent registry cannot be read right now: {e.Message} Try again shortly.");
        }
    }
}
