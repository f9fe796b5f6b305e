using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoOrg.Client.Workers;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using Orleans.Streams;

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
    private StreamSubscriptionHandle<TaskEvent>? subscription;

    private BenchWorkers(BenchRun run, string capability)
    {
        this.run = run;
        Capability = capability;
    }

    public string Capability { get; }

    public static async Task<BenchWorkers> StartAsync(BenchRun run, string capability, int count, CancellationToken cancellationToken)
    {
        var set = new BenchWorkers(run, capability);
        set.subscription = await run.Other.GetStreamProvider(NoOrgStreams.Provider).GetStream<TaskEvent>(NoOrgStreams.AllTasksStream)
            .SubscribeAsync((e, _) =>
            {
                if (e.Action == TaskAction.Completed && set.waiting.TryRemove(e.TaskId, out var waiter))
                {
                    waiter.TrySetResult(Stopwatch.GetTimestamp());
                }

                return Task.CompletedTask;
            });
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
        if (subscription is not null)
        {
            await subscription.UnsubscribeAsync();
        }
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
