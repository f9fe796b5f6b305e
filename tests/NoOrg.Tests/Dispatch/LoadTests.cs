using System.Diagnostics;
using NoOrg.Client.Tasks;
using NoOrg.Configuration;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Workers;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace NoOrg.Tests.Dispatch;

/// <summary>
/// 1,000 tasks through 20 workers on a PostgreSQL two-silo cluster: every task completes exactly once and no
/// agent runs more than its limit; the same with a silo killed mid-run.
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Tasks = 1000;
    private const int Workers = 20;
    private const int PerWorker = 3;

    [SkippableFact]
    public Task Thousand_tasks_through_twenty_workers_complete_exactly_once_within_limits() => RunAsync(killSiloMidRun: false);

    [SkippableFact]
    public Task Thousand_tasks_survive_a_silo_killed_mid_run_and_none_completes_twice() => RunAsync(killSiloMidRun: true);

    private async Task RunAsync(bool killSiloMidRun)
    {
        var created = await ClusterDatabases.CreateAsync(StorageProvider.Postgres);
        Skip.If(created is null, ClusterDatabases.SkipReason(StorageProvider.Postgres));
        await using var database = created.Value.Database;
        var properties = NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, created.Value.ConnectionString);
        properties["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = "5";
        var cluster = await NoOrgTestCluster.StartAsync(properties);
        var workers = new List<TestWorker>();
        try
        {
            var capability = "load-" + Guid.NewGuid().ToString("N")[..8];
            for (var i = 0; i < Workers; i++)
            {
                workers.Add(await TestWorker.StartAsync(cluster.Client, $"{capability}-w{i:D2}", [capability], PerWorker));
            }

            var clock = Stopwatch.StartNew();
            var ids = new List<string>(Tasks);
            foreach (var batch in Enumerable.Range(0, Tasks).Chunk(50))
            {
                var made = await Task.WhenAll(batch.Select(i => cluster.Client.CreateTaskAsync(
                    new TaskSpec($"load {i}", "echo", InputJson: $"{{\"n\":{i}}}", RequiredCapabilities: [capability], MaxAttempts: 5,
                        RetryBackoff: TimeSpan.FromMilliseconds(200)), "load-test")));
                ids.AddRange(made.Select(t => t.Id));
            }

            if (killSiloMidRun)
            {
                await Eventually.ReturnsAsync(() => Task.FromResult(workers.Sum(w => w.Service.Reported.Count)), n => n >= Tasks / 4,
                    TimeSpan.FromMinutes(3), "a quarter of the tasks to complete");
                await cluster.KillSiloAsync(cluster.SecondarySilos[0]);
                output.WriteLine($"killed {cluster.SecondarySilos.Count} secondary silo after {clock.Elapsed.TotalSeconds:F1}s");
            }

            var maxHeld = 0;
            NoOrg.Grains.Agents.AgentSnapshot?[] agents = [];
            TaskSnapshot?[] final;
            try
            {
                final = await Eventually.ReturnsAsync(
                    async () =>
                    {
                        // Sample the agents' own view of their load while the run goes on.
                        agents = await Task.WhenAll(workers.Select(w => cluster.Client.GetGrain<NoOrg.Grains.Agents.IAgentGrain>(w.AgentId).GetAsync()));
                        maxHeld = Math.Max(maxHeld, agents.Max(a => a?.ActiveTaskIds.Count ?? 0));
                        return await Task.WhenAll(ids.Select(id => cluster.Client.GetGrain<ITaskGrain>(id).GetAsync()));
                    },
                    all => all.All(t => t is not null && t.IsTerminal), TimeSpan.FromMinutes(5), "every task to finish");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                throw new Xunit.Sdk.XunitException(e.Message + Environment.NewLine + await StuckAsync(cluster, ids, agents, workers));
            }
            clock.Stop();

            Assert.Equal(Tasks, final.Length);
            Assert.All(final, t => Assert.Equal(TaskState.Completed, t!.State));
            // Handler runs per task: exactly one with no fault; after the kill, more only where the history shows the task
            // handed to an agent again (a run cut short by the kill, then a new assignment).
            var runs = workers.SelectMany(w => w.Handler.Ran).GroupBy(id => id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            if (!killSiloMidRun)
            {
                Assert.All(ids, id => Assert.Equal(1, runs.GetValueOrDefault(id)));
            }

            foreach (var id in ids.Take(killSiloMidRun ? Tasks : 100))
            {
                var history = await cluster.Client.GetGrain<ITaskGrain>(id).GetHistoryAsync(0, 1000);
                Assert.Single(history.Items, e => e.Action == TaskAction.Completed);
                var handedOut = history.Items.Count(e => e.Action is TaskAction.Assigned or TaskAction.Reassigned);
                Assert.True(runs.GetValueOrDefault(id) is var times && times >= 1 && times <= handedOut,
                    $"task {id} ran {runs.GetValueOrDefault(id)} time(s) but was handed out {handedOut} time(s): " +
                    string.Join(", ", history.Items.Select(e => $"{e.Action}:{e.Actor}")));
            }

            var reported = workers.SelectMany(w => w.Service.Reported).ToList();
            Assert.Equal(reported.Count, reported.Distinct().Count()); // no completion reported twice
            Assert.All(workers, w => Assert.InRange(w.Handler.MaxConcurrent, 0, PerWorker));
            Assert.InRange(maxHeld, 1, PerWorker);
            var ran = workers.Sum(w => w.Handler.Ran.Count);
            output.WriteLine($"{Tasks} tasks, {Workers} workers x {PerWorker}: all completed in {clock.Elapsed.TotalSeconds:F1}s; " +
                $"handler runs {ran} (re-runs after the kill: {ran - Tasks}); max concurrency seen {workers.Max(w => w.Handler.MaxConcurrent)}, most tasks held by one agent {maxHeld}");
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }

            await StopAsync(cluster);
        }
    }

    /// <summary>What the unfinished tasks and the agents look like, so that a stall says where it stopped.</summary>
    private static async Task<string> StuckAsync(
        TestCluster cluster, List<string> ids, NoOrg.Grains.Agents.AgentSnapshot?[] agents, List<TestWorker> workers)
    {
        var tasks = await Task.WhenAll(ids.Select(id => cluster.Client.GetGrain<ITaskGrain>(id).GetAsync()));
        var stuck = tasks.Where(t => t is not null && !t.IsTerminal).Select(t => t!).ToList();
        var lines = new List<string> { $"{stuck.Count} task(s) unfinished, by state, holder and reason:" };
        lines.AddRange(stuck.GroupBy(t => $"{t.State} on {t.AssignedTo ?? "-"} attempt {t.Attempt}: {t.UnassignableReason ?? "-"}")
            .OrderByDescending(g => g.Count()).Take(15).Select(g => $"  {g.Count()} x {g.Key} (e.g. {g.First().Id})"));
        lines.Add("agents (status, health, active, worker reported, worker running):");
        lines.AddRange(agents.Where(a => a is not null).Select(a =>
        {
            var worker = workers.First(w => w.AgentId == a!.Id);
            return $"  {a!.Id}: {a.Status} {a.Health} active {a.ActiveTaskIds.Count} [{string.Join(",", a.ActiveTaskIds.Take(3))}] " +
                $"reported {worker.Service.Reported.Count} ran {worker.Handler.Ran.Count}";
        }));
        return string.Join(Environment.NewLine, lines);
    }

    private static async Task StopAsync(TestCluster cluster)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }
}
