using System.Diagnostics;
using NoOrg.Client.Tasks;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Cluster;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Registers N agents and creates N pending tasks (64 callers), reads silo memory before and after, and times the
/// listing and statistics calls at that size. The agents and tasks stay: run it against a throwaway database.
/// </summary>
internal static class ScalePhase
{
    private const int Callers = 64;

    public static async Task<ScaleResult> RunAsync(BenchRun run, Action<string, double> progress, CancellationToken cancellationToken)
    {
        var n = run.Plan.Scale;
        var before = await MemoryAsync(run.Caller);
        long errors = 0;
        var capability = "bench-scale-" + run.Id;

        var agents = Stopwatch.StartNew();
        errors += await ForAllAsync(n, i => run.Caller.GetGrain<IAgentGrain>(run.Name("s" + i)).RegisterAsync(BenchAgents.Registration(capability, 1)),
            done => progress("agents", done), cancellationToken);
        agents.Stop();

        var tasks = Stopwatch.StartNew();
        errors += await ForAllAsync(n, _ =>
            {
                var spec = BenchTasks.Spec(run, run.Nobody);
                return run.Caller.GetGrain<ITaskGrain>(TaskClientExtensions.NewTaskId(spec)).CreateAsync(spec, BenchRun.Actor);
            },
            done => progress("tasks", done), cancellationToken);
        tasks.Stop();

        var after = await MemoryAsync(run.Caller);
        var queries = run.Caller.GetGrain<ITaskQueryGrain>(0);
        var registry = run.Caller.GetGrain<IAgentRegistryGrain>(0);
        QueryResult[] results =
        [
            await TimeAsync("tasks list", "ITaskQueryGrain.ListAsync(state pending, take 100)", run.Plan.QuerySamples,
                () => queries.ListAsync(new TaskQuery(States: [TaskState.Pending], Take: 100))),
            await TimeAsync("task stats", "ITaskQueryGrain.StatisticsAsync()", run.Plan.QuerySamples, () => queries.StatisticsAsync()),
            await TimeAsync("agents find", "IAgentRegistryGrain.FindAsync(capability, take 100)", run.Plan.QuerySamples,
                () => registry.FindAsync(new AgentQuery(Capabilities: [capability], Take: 100))),
            await TimeAsync("agent counts", "IAgentRegistryGrain.CountAsync()", run.Plan.QuerySamples, () => registry.CountAsync()),
        ];
        return new ScaleResult(n, Math.Round(agents.Elapsed.TotalSeconds, 2), Math.Round(tasks.Elapsed.TotalSeconds, 2), errors, before, after, results);
    }

    /// <summary>Memory of every silo; the ping grain adds resident set and managed heap for the silo that answers.</summary>
    public static async Task<IReadOnlyList<SiloMemoryReading>> MemoryAsync(IClusterClient client)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var hosts = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
        var statistics = await management.GetRuntimeStatistics(hosts);
        var local = await client.GetGrain<IPingGrain>(0).MemoryAsync(collectFirst: true);
        return [.. hosts.Zip(statistics).Select(p =>
        {
            var here = p.First.ToString() == local.Silo;
            return new SiloMemoryReading(
                p.First.ToString(), here ? local.ResidentBytes : null, here ? local.ManagedHeapBytes : null, here ? local.GcCommittedBytes : null,
                p.Second.ActivationCount, p.Second.EnvironmentStatistics.RawMemoryUsageBytes);
        })];
    }

    private static async Task<long> ForAllAsync(int n, Func<int, Task> action, Action<double> progress, CancellationToken cancellationToken)
    {
        long errors = 0;
        long done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = Callers, CancellationToken = cancellationToken },
            async (i, _) =>
            {
                try
                {
                    await action(i);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }

                progress(Interlocked.Increment(ref done));
            });
        return errors;
    }

    private static async Task<QueryResult> TimeAsync<T>(string name, string call, int samples, Func<Task<T>> query)
    {
        var recorder = new LatencyRecorder();
        await query(); // warm-up: activation and plan caches
        for (var i = 0; i < samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await query();
            recorder.Record(Stopwatch.GetElapsedTime(started));
        }

        return new QueryResult(name, call, recorder.Summarize());
    }
}
