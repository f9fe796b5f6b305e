using System.Collections.Concurrent;
using System.Diagnostics;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Agents connected from the second client as plain observers, so the bench sees the very moment a task is pushed
/// to a worker. Each received task is started and completed in the background, which keeps the agents idle.
/// </summary>
internal sealed class BenchAgents : IAsyncDisposable
{
    /// <summary>The most an agent may hold: capacity is never what an assignment waits for.</summary>
    private const int MaxConcurrentTasks = 1000;

    private static readonly TimeSpan ReconnectPeriod = TimeSpan.FromSeconds(5);

    private readonly BenchRun run;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> waiting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> finishing = new(StringComparer.Ordinal);
    private readonly List<(IAgentGrain Grain, Receiver Receiver, IAgentWorker Reference)> agents = [];
    private readonly CancellationTokenSource stop = new();
    private Task keepAlive = Task.CompletedTask;

    private BenchAgents(BenchRun run, string capability)
    {
        this.run = run;
        Capability = capability;
    }

    public string Capability { get; }

    public static AgentRegistration Registration(string capability, int maxConcurrentTasks) =>
        new("bench", "bench", "registered by noorg bench", [capability], maxConcurrentTasks, new Dictionary<string, string>());

    public static async Task<BenchAgents> ConnectAsync(BenchRun run, string capability, int count, CancellationToken cancellationToken)
    {
        var set = new BenchAgents(run, capability);
        for (var i = 0; i < count; i++)
        {
            var id = $"{capability}-{i}";
            var grain = run.Other.GetGrain<IAgentGrain>(id);
            await grain.RegisterAsync(Registration(capability, MaxConcurrentTasks));
            var receiver = new Receiver(set, id);
            var reference = run.Other.CreateObjectReference<IAgentWorker>(receiver);
            await grain.ConnectAsync(reference);
            set.agents.Add((grain, receiver, reference));
        }

        set.keepAlive = set.KeepConnectedAsync();
        cancellationToken.ThrowIfCancellationRequested();
        return set;
    }

    /// <summary>Completes with the <see cref="Stopwatch"/> timestamp at which a worker received the task.</summary>
    public Task<long> Expect(string taskId) =>
        waiting.GetOrAdd(taskId, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Waits until every received task is finished, so the next level starts with idle agents.</summary>
    public Task DrainAsync() => Task.WhenAll(finishing.Values);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
#pragma warning disable VSTHRD003 // this object started the loop; a console app has no synchronization context to deadlock on
        await keepAlive;
#pragma warning restore VSTHRD003
        await DrainAsync();
        foreach (var (grain, _, reference) in agents)
        {
            await grain.DisconnectAsync(reference);
            await grain.UnregisterAsync("bench finished");
            run.Other.DeleteObjectReference<IAgentWorker>(reference);
        }

        stop.Dispose();
    }

    private void Received(string agentId, TaskSnapshot task)
    {
        var at = Stopwatch.GetTimestamp();
        waiting.GetOrAdd(task.Id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(at);
        finishing.TryAdd(task.Id, FinishAsync(agentId, task.Id));
    }

    private async Task FinishAsync(string agentId, string taskId)
    {
        await Task.Yield();
        try
        {
            var grain = run.Other.GetGrain<ITaskGrain>(taskId);
            await grain.StartAsync(agentId);
            await grain.CompleteAsync(agentId, "{}", TimeSpan.Zero);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The measurement is taken already; a task left running is released when its agent unregisters.
        }
        finally
        {
            finishing.TryRemove(taskId, out _);
            waiting.TryRemove(taskId, out _);
        }
    }

    /// <summary>The connection is the heartbeat: renew it well within the heartbeat timeout.</summary>
    private async Task KeepConnectedAsync()
    {
        using var timer = new PeriodicTimer(ReconnectPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                foreach (var (grain, _, reference) in agents)
                {
                    await grain.ConnectAsync(reference);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class Receiver(BenchAgents set, string agentId) : IAgentWorker
    {
        public Task TaskAssigned(TaskSnapshot task)
        {
            set.Received(agentId, task);
            return Task.CompletedTask;
        }

        public Task TaskRevoked(string taskId, string reason) => Task.CompletedTask;
    }
}
