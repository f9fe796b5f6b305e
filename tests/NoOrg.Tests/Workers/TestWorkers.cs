using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoOrg.Client.Workers;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Workers;

/// <summary>A handler that records what it ran and how many ran at once, per agent.</summary>
public sealed class RecordingHandler(TimeSpan workTime) : IAgentTaskHandler
{
    private int running;
    private int maxRunning;

    public ConcurrentBag<string> Ran { get; } = [];

    /// <summary>Tasks whose cancellation token fired while the handler ran (revoked or shut down).</summary>
    public ConcurrentBag<string> Cancelled { get; } = [];

    public int MaxConcurrent => Volatile.Read(ref maxRunning);

    public async Task<string> HandleAsync(TaskSnapshot task, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref running);
        int seen;
        while (now > (seen = Volatile.Read(ref maxRunning)) && Interlocked.CompareExchange(ref maxRunning, now, seen) != seen)
        {
        }

        try
        {
            Ran.Add(task.Id);
            if (task.Spec.Type == "fail")
            {
                throw new InvalidOperationException("asked to fail");
            }

            try
            {
                await Task.Delay(workTime, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.Add(task.Id);
                throw;
            }

            return task.Spec.InputJson;
        }
        finally
        {
            Interlocked.Decrement(ref running);
        }
    }
}

/// <summary>Runs <see cref="AgentWorkerService"/>s inside a test against a test cluster's client.</summary>
public sealed class TestWorker : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private int disposed;

    private TestWorker(string agentId, AgentWorkerService service, RecordingHandler handler)
    {
        AgentId = agentId;
        Service = service;
        Handler = handler;
    }

    public string AgentId { get; }

    public AgentWorkerService Service { get; }

    public RecordingHandler Handler { get; }

    public static async Task<TestWorker> StartAsync(
        IClusterClient client, string agentId, IReadOnlyList<string> capabilities, int maxConcurrent, TimeSpan? workTime = null,
        Action<AgentWorkerOptions>? configure = null, ClusterChangeSignal? clusterChanges = null, ILogger<AgentWorkerService>? logger = null)
    {
        var handler = new RecordingHandler(workTime ?? TimeSpan.FromMilliseconds(10));
        var settings = new AgentWorkerOptions
        {
            AgentId = agentId,
            Registration = new AgentRegistration($"worker {agentId}", "test-worker", "runs test tasks", capabilities, maxConcurrent, new Dictionary<string, string>()),
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            MaxRetryDelay = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(settings);
        var options = Options.Create(settings);
        var service = new AgentWorkerService(client, handler, options, logger ?? NullLogger<AgentWorkerService>.Instance, clusterChanges);
        var worker = new TestWorker(agentId, service, handler);
        await service.StartAsync(worker.stop.Token);
        await Cluster.Eventually.ReturnsAsync(() => client.GetGrain<IAgentGrain>(agentId).GetAsync(), a => a is not null,
            TimeSpan.FromSeconds(30), $"agent {agentId} to register");
        return worker;
    }

    /// <summary>Stops the worker as a host would (it disconnects); a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await Service.StopAsync(CancellationToken.None);
        Service.Dispose();
        stop.Dispose();
    }
}
