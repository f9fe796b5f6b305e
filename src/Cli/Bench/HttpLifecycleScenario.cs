using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Client.Tasks;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Bench;

/// <summary>
/// The full lifecycle through the HTTP worker protocol (docs/workers-http.md): the same tasks as
/// <see cref="LifecycleScenario"/>, taken by HTTP workers that long-poll, start and complete over <c>/v1</c> with the
/// same number of agents and slots as the SDK workers. Its throughput is reported as a ratio to the SDK lifecycle of
/// the same run.
/// </summary>
internal sealed class HttpLifecycleScenario(BenchRun run) : BenchScenario
{
    private const int AgentCount = 4;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> loops = [];
    private BenchWorkers? follower;
    private HttpClient? http;

    public override string Name => "http-lifecycle";

    public override string Measures =>
        "create a task for an HTTP worker, until another client has its completed event (long poll, start, complete over /v1 between)";

    private string Capability => "bench-http-" + run.Id;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        follower = await BenchWorkers.StartAsync(run, Capability, count: 0, cancellationToken); // follows completions only
        http = HttpCreationScenario.Client(run);
        var slots = Math.Max(1, run.Plan.Levels.Max());
        for (var i = 0; i < AgentCount; i++)
        {
            var agentId = $"{Capability}-{i}";
            using var registered = await http.PutAsJsonAsync(new Uri($"/v1/agents/{agentId}", UriKind.Relative),
                BenchAgents.Registration(Capability, slots), JsonSerializerOptions.Web, cancellationToken);
            if (!registered.IsSuccessStatusCode)
            {
                throw new CliException($"PUT /v1/agents/{agentId} answered {(int)registered.StatusCode}: {await registered.Content.ReadAsStringAsync(cancellationToken)}");
            }

            var workerId = "bench-" + Guid.NewGuid().ToString("N")[..12];
            loops.AddRange(Enumerable.Range(0, slots).Select(_ => Task.Run(() => WorkAsync(http, agentId, workerId, stop.Token), CancellationToken.None)));
        }
    }

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, Capability);
        var id = TaskClientExtensions.NewTaskId(spec);
        var completed = follower!.Expect(id);
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(spec, BenchRun.Actor);
        var at = await completed.WaitAsync(EventPatience, cancellationToken);
        return Stopwatch.GetElapsedTime(started, at);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        if (http is not null)
        {
            await BenchRun.ForEachQuietlyAsync(Enumerable.Range(0, AgentCount).Select(i => $"{Capability}-{i}"),
                id => run.Other.GetGrain<IAgentGrain>(id).UnregisterAsync("bench finished"), cancellationToken);
            http.Dispose();
        }

        if (follower is not null)
        {
            await follower.DisposeAsync();
        }

        stop.Dispose();
    }

    /// <summary>One slot of an HTTP worker: poll, start, complete, as the reference clients do (without the handler's heartbeats: it returns at once).</summary>
    private static async Task WorkAsync(HttpClient http, string agentId, string workerId, CancellationToken stopping)
    {
        var next = new Uri($"/v1/agents/{agentId}/tasks/next?worker={workerId}&wait=5", UriKind.Relative);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var polled = await http.GetAsync(next, stopping);
                if (polled.StatusCode != HttpStatusCode.OK)
                {
                    if (polled.StatusCode != HttpStatusCode.NoContent)
                    {
                        await Task.Delay(200, stopping);
                    }

                    continue;
                }

                var task = JsonNode.Parse(await polled.Content.ReadAsStringAsync(stopping))!;
                var taskId = task["id"]!.GetValue<string>();
                var attempt = task["attempt"]!.GetValue<int>();
                if (task["state"]!.GetValue<string>() == "assigned")
                {
                    using var started = await http.PostAsJsonAsync(new Uri($"/v1/tasks/{taskId}/start", UriKind.Relative), new { agentId, attempt }, stopping);
                    if (!started.IsSuccessStatusCode)
                    {
                        continue; // taken away meanwhile
                    }

                    attempt = JsonNode.Parse(await started.Content.ReadAsStringAsync(stopping))!["attempt"]!.GetValue<int>();
                }

                using var completed = await http.PostAsJsonAsync(new Uri($"/v1/tasks/{taskId}/complete", UriKind.Relative),
                    new { agentId, resultJson = "{}", attempt }, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                await Task.Delay(200, CancellationToken.None); // a sample that waits on it counts as an error
            }
        }
    }
}
