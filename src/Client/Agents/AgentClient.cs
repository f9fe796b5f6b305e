using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Client.Watching;

namespace NoOrg.Client.Agents;

/// <summary>Agents from an app or an operator's tool. A worker process uses <c>AddNoOrgWorker</c> instead.</summary>
public sealed class AgentClient
{
    private readonly IClusterClient client;

    internal AgentClient(IClusterClient client) => this.client = client;

    /// <summary>Registers the agent; the same details again are a no-op, other details a <see cref="ConflictException"/>.</summary>
    public Task<AgentSnapshot> RegisterAsync(string agentId, AgentRegistration registration) => Agent(agentId).RegisterAsync(registration);

    /// <summary>The agent; <see cref="NotFoundException"/> when it is not registered.</summary>
    public async Task<AgentSnapshot> GetAsync(string agentId) =>
        await Agent(agentId).GetAsync() ?? throw NotFoundException.ForAgent(agentId);

    public Task<AgentSnapshot> UpdateAsync(string agentId, AgentUpdate update) => Agent(agentId).UpdateAsync(update);

    public Task<AgentSnapshot> SetStatusAsync(string agentId, AgentStatus status, string reason) => Agent(agentId).SetStatusAsync(status, reason);

    public Task<AgentSnapshot> HeartbeatAsync(string agentId) => Agent(agentId).HeartbeatAsync();

    /// <summary>Unregisters the agent: it goes offline and hands back the tasks it holds.</summary>
    public Task UnregisterAsync(string agentId, string reason) => Agent(agentId).UnregisterAsync(reason);

    public Task<Page<AgentEvent>> HistoryAsync(string agentId, int skip = 0, int take = 100) => Agent(agentId).GetHistoryAsync(skip, take);

    public Task<Page<AgentSummary>> FindAsync(AgentQuery query) => Registry.FindAsync(query ?? new AgentQuery());

    public Task<AgentCounts> CountAsync() => Registry.CountAsync();

    /// <summary>Every capability some registered agent has.</summary>
    public Task<IReadOnlyList<string>> CapabilitiesAsync() => Registry.CapabilitiesAsync();

    /// <summary>Every change of one agent (or, with no id, of every agent) from now on; gaps as for <see cref="Tasks.TaskClient.WatchAsync"/>.</summary>
    public IAsyncEnumerable<AgentEvent> WatchAsync(string? agentId = null, CancellationToken cancellationToken = default) =>
        Watches.Agents(client, agentId is null ? null : InputText.RequireId("agentId", agentId), cancellationToken);

    private IAgentGrain Agent(string agentId) => client.GetGrain<IAgentGrain>(InputText.RequireId("agentId", agentId));

    private IAgentRegistryGrain Registry => client.GetGrain<IAgentRegistryGrain>(0);
}
