using System.Collections.Concurrent;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Agents;

/// <summary>
/// Agents one test registers, under fresh ids, and unregisters when it ends: an agent left behind in a shared
/// cluster would go on taking other tests' tasks.
/// </summary>
public sealed class TestAgents(IClusterClient client) : IAsyncDisposable
{
    private readonly ConcurrentBag<string> ids = [];

    /// <summary>A capability no other test uses, so shared data never matches by accident.</summary>
    public static string NewCapability(string name) => $"{name}-{Guid.NewGuid():N}";

    public static AgentRegistration Registration(
        IReadOnlyList<string> capabilities, int maxConcurrentTasks = 2, string type = "test-agent", string name = "test agent") =>
        new(name, type, "an agent under test", capabilities, maxConcurrentTasks, new Dictionary<string, string> { ["team"] = "tests" });

    /// <summary>A grain for a fresh agent id, not registered yet.</summary>
    public (string Id, IAgentGrain Grain) New()
    {
        var id = $"agent-{Guid.NewGuid():N}";
        ids.Add(id);
        return (id, client.GetGrain<IAgentGrain>(id));
    }

    public async Task<(string Id, IAgentGrain Grain)> RegisterAsync(AgentRegistration registration)
    {
        var (id, grain) = New();
        await grain.RegisterAsync(registration);
        return (id, grain);
    }

    /// <summary>A real task that needs <paramref name="capability"/>, pending while no agent offers it.</summary>
    public static async Task<ITaskGrain> CreateTaskAsync(IClusterClient client, string capability)
    {
        var task = client.GetGrain<ITaskGrain>($"task-{Guid.NewGuid():N}");
        await task.CreateAsync(new TaskSpec("agent test", "test", RequiredCapabilities: [capability]), "test");
        return task;
    }

    /// <summary>
    /// A real task the agent holds: created for <paramref name="capability"/> (give it one only that agent has) and
    /// assigned to it. An agent's holds are the task writes that say so, so a reservation alone is gone with the activation.
    /// </summary>
    public static async Task<string> HoldAsync(IClusterClient client, string agentId, string capability)
    {
        var task = await CreateTaskAsync(client, capability);
        await AssignAsync(task, agentId);
        return task.GetPrimaryKeyString();
    }

    /// <summary>Assigns the task to the agent, or waits for the dispatcher that got there first.</summary>
    public static async Task AssignAsync(ITaskGrain task, string agentId)
    {
        try
        {
            await task.AssignAsync(agentId, "test");
        }
        catch (Grains.Errors.NoOrgException)
        {
            // Assigned meanwhile by the dispatcher.
        }

        await Cluster.Eventually.ReturnsAsync(task.GetAsync, t => t!.AssignedTo == agentId, TimeSpan.FromSeconds(30), "the task to be assigned to the agent");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in ids)
        {
            try
            {
                await client.GetGrain<IAgentGrain>(id).UnregisterAsync("test finished");
            }
            catch (Exception)
            {
                // Best effort: the cluster may already be gone.
            }
        }
    }
}

/// <summary>A worker process stand-in: records what its agent grain pushes to it.</summary>
public sealed class RecordingAgentWorker : IAgentWorker
{
    public ConcurrentQueue<TaskSnapshot> Assigned { get; } = new();

    public ConcurrentQueue<(string TaskId, string Reason)> Revoked { get; } = new();

    public Task TaskAssigned(TaskSnapshot task)
    {
        Assigned.Enqueue(task);
        return Task.CompletedTask;
    }

    public Task TaskRevoked(string taskId, string reason)
    {
        Revoked.Enqueue((taskId, reason));
        return Task.CompletedTask;
    }
}
