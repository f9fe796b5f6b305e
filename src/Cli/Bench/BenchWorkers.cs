using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoOrg.Client.Workers;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Client.Watching;
using NoOrg.Grains.Errors;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Workers of the worker SDK (<see cref="AgentWorkerService"/>, what <c>AddNoOrgWorker</c> runs) hosted on the second
/// client, whose handler returns at once; the same client follows every task and reports when one is completed.
/// </summary>
internal sealed class BenchWorkers : IAsyncDisposable, IAgentTaskHandler
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> waiting = new(StringComparer.Ordinal);
    private readonly List<AgentWorkerService> services = [];
    private readonly BenchRun run;
    private readonly CancellationTokenSource stop = new();
    private ChangeWatch<TaskEvent>? watch;
    private Task? following;

    private BenchWorkers(BenchRun run, string capability)
    {
        this.run = run;
        Capability = capability;
    }

    public string Capability { get; }

    public static async Task<BenchWorkers> StartAsync(BenchRun run, string capability, int count, CancellationToken cancellationToken)
    {
        var set = new BenchWorkers(run, capability);
        set.watch = await Watches.AllTasksAsync(run.Other);
        set.following = set.FollowAsync(set.watch);
        var slots = Math.Max(1, run.Plan.Levels.Max());
        for (var i = 0; i < count; i++)
        {
            var options = new AgentWorkerOptions
            {
                AgentId = $"{capability}-{i}",
                Registration = BenchAgents.Registration(capability, slots),
                HeartbeatInterval = TimeSpan.FromSeconds(5),
            };
            var service = new AgentWorkerService(run.Other, set, Options.Create(options), NullLogger<AgentWorkerService>.Instance);
            await service.StartAsync(cancellationToken);
            set.services.Add(service);
        }

        // Ready when every agent is registered (the service connects right after).
        await WaitRegisteredAsync(run, [.. Enumerable.Range(0, count).Select(i => $"{capability}-{i}")], cancellationToken);
        return set;
    }

    public Task<long> Expect(string taskId) =>
        waiting.GetOrAdd(taskId, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public Task<string> HandleAsync(TaskSnapshot task, CancellationToken cancellationToken) => Task.FromResult("{}");

    private async Task FollowAsync(ChangeWatch<TaskEvent> changes)
    {
        try
        {
            while (true)
            {
                var e = await changes.ReadAsync(stop.Token);
                if (e.Action == TaskAction.Completed && waiting.TryRemove(e.TaskId, out var waiter))
                {
                    waiter.TrySetResult(Stopwatch.GetTimestamp());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WatchGapException e)
        {
            // A sample whose event was lost times out and counts as an error; the bench goes on without the follower.
            foreach (var waiter in waiting.Values)
            {
                waiter.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in services)
        {
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }

        await BenchRun.ForEachQuietlyAsync(
            Enumerable.Range(0, services.Count).Select(i => $"{Capability}-{i}"),
            id => run.Other.GetGrain<IAgentGrain>(id).UnregisterAsync("bench finished"),
            CancellationToken.None);
        await stop.CancelAsync();
        if (following is not null)
        {
#pragma warning disable VSTHRD003 // started by StartAsync on the thread pool: no context to deadlock on
            await following;
#pragma warning restore VSTHRD003
        }

        if (watch is not null)
        {
            await watch.DisposeAsync();
        }

        stop.Dispose();
    }

    private static async Task WaitRegisteredAsync(BenchRun run, IReadOnlyList<string> agentIds, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        foreach (var id in agentIds)
        {
            while (await run.Other.GetGrain<IAgentGrain>(id).GetAsync() is null)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new CliException($"bench worker {id} did not register within 30 s");
                }

                await Task.Delay(50, cancellationToken);
            }
        }
    }
}
