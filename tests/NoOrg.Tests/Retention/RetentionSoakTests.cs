using System.Globalization;
using NoOrg.Client.Sagas;
using NoOrg.Client.Tasks;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Storage.Statistics;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Sagas;
using NoOrg.Tests.Workers;
using Xunit.Abstractions;
using static NoOrg.Tests.Sagas.SagaTestSiloConfigurator;

namespace NoOrg.Tests.Retention;

/// <summary>
/// A scaled-down soak: a steady stream of tasks (run by a worker), sagas (half of them compensating), health issues
/// (agents that fall silent until their monitor judges them unhealthy, then beat again, which resolves the issue) and
/// dead letters (each task's creation event, sent to a webhook on a port nobody listens on) and handled message ids
/// (inbox) for many retention periods, with clean-up on its reminder. Every table's row count
/// levels off, statistics and estimates agree with what is stored, and a silo killed while sagas are being removed
/// leaves none in part. <c>scripts/soak</c> runs it longer (NOORG_SOAK_SECONDS) at a chosen rate (NOORG_SOAK_RATE).
/// </summary>
public abstract class RetentionSoakTests(StorageProvider provider, ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(Setting("NOORG_SOAK_SECONDS", 22));
    private static readonly int Rate = (int)Setting("NOORG_SOAK_RATE", 1);

    /// <summary>Task counters are spread over this many slots per counter (docs/tasks.md): bounded by construction, not by retention.</summary>
    private const int CounterSlots = 256;

    /// <summary>Where the soak's webhook points: the discard port, closed on these machines, so every delivery fails at once.</summary>
    private const string ClosedPort = "http://127.0.0.1:9/soak";

    /// <summary>Agent history kept per agent in this run (NOORG_AGENTS_HISTORY_LIMIT): trimmed with each write, so bounded by construction.</summary>
    private const int AgentHistoryLimit = 10;

    [SkippableFact]
    public async Task A_steady_stream_levels_off_every_table_and_a_killed_silo_leaves_no_partial_saga()
    {
        await using var rc = await RetentionCluster.StartAsync(provider, new Dictionary<string, string>
        {
            ["NOORG_RETENTION_INTERVAL_SECONDS"] = "2",
            ["NOORG_RETENTION_BATCH_SIZE"] = "10",
            ["NOORG_SAGAS_RESUME_PERIOD_SECONDS"] = "2",
            ["NOORG_AGENTS_HISTORY_LIMIT"] = AgentHistoryLimit.ToString(CultureInfo.InvariantCulture), // agent history is bounded per agent: reach the bound within the run
            ["NOORG_AGENT_HEALTH_HISTORY_LIMIT"] = "10",
            ["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = "3",
            ["NOORG_AGENT_HEALTH_CHECK_INTERVAL_SECONDS"] = "1",
            // Dead letters are real: a webhook nobody listens on, each task's creation given up after two quick attempts.
            ["NOORG_OUTBOX_MAX_ATTEMPTS"] = "2",
            ["NOORG_OUTBOX_RETRY_BASE_MS"] = "100",
            ["NOORG_OUTBOX_RETRY_MAX_SECONDS"] = "1",
            // Handled message ids are forgotten after 3.6 s, the shortest the redelivery window above (2 x 1 s) allows.
            ["NOORG_OUTBOX_INBOX_RETENTION_HOURS"] = "0.001",
            ["NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS"] = "1",
            ["NOORG_RESILIENCE_RETRY_ATTEMPTS"] = "0",
            // A purged task takes its outbox rows with it, dead letters included: tasks are kept a little longer (about
            // 3.5 s) than dead letters (1 s), so that dead-letter retention is what removes most of them.
            ["NOORG_TASKS_RETENTION_DAYS"] = "0.00004",
        });
        await rc.Client.GetGrain<IWebhooksGrain>(0).AddAsync(ClosedPort, ["task.created"], "soak: nobody listens here", null);
        var capability = "soak-" + Guid.NewGuid().ToString("N")[..8];
        await using var worker = await TestWorker.StartAsync(rc.Client, capability + "-worker", [capability], 8, TimeSpan.FromMilliseconds(5));
        // A few effects grains in turn: one for all would serialize every step of every saga; one per saga would add rows.
        var effects = Enumerable.Range(0, 8).Select(i => $"soak-effects-{capability}-{i}").ToArray();
        using var stopAgents = new CancellationTokenSource();
        var flaky = Enumerable.Range(0, 4).Select(i => FlakyAgentAsync(rc.Client, $"{capability}-flaky-{i}", stopAgents.Token)).ToArray();
        var tables = await TablesAsync(rc);
        var samples = new List<(TimeSpan At, Dictionary<string, long> Rows)>();
        var produced = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(500)))
        {
            while (clock.Elapsed < Duration && await pace.WaitForNextTickAsync())
            {
                for (var i = 0; i < Rate; i++)
                {
                    await rc.Client.CreateTaskAsync(new TaskSpec("soak", "soak", RequiredCapabilities: [capability]), "soak");
                    await rc.Client.StartSagaAsync(Chain, new TestSagaInput(effects[produced % effects.Length], FailAt: i % 2 == 0 ? null : "s3").ToJson());
                    var receiver = rc.Client.GetGrain<ISoakReceiverGrain>(effects[produced % effects.Length]);
                    var message = Guid.NewGuid().ToString("N");
                    Assert.True(await receiver.HandleAsync(message));
                    Assert.False(await receiver.HandleAsync(message)); // a redelivery is recognised
                    produced++;
                }

                samples.Add((clock.Elapsed, await CountAllAsync(rc, tables)));
            }
        }

        await stopAgents.CancelAsync();
        var issuesResolved = (await Task.WhenAll(flaky)).Sum();
        Report(samples, tables);
        AssertLevelsOff(samples, tables, produced);
        await AssertAgentHistoryBoundedAsync(rc, samples);
        await AssertIssuesAndDeadLettersCameAndWentAsync(rc, issuesResolved, produced);
        await AssertCountersBoundedAsync(rc);
        await AssertStatisticsMatchStoredRowsAsync(rc, worker.AgentId);
        await KillDuringSagaRemovalAsync(rc, effects);
    }

    /// <summary>Rows in the last third of the run peak no higher than in the middle third (with slack for noise): growth would.</summary>
    private static void AssertLevelsOff(List<(TimeSpan At, Dictionary<string, long> Rows)> samples, IReadOnlyList<string> tables, int produced)
    {
        Assert.True(samples.Count >= 9, $"only {samples.Count} samples");
        var third = samples.Count / 3;
        var growing = new List<string>();
        // Samples are kept while completions per minute counts them (5 minutes): longer than this run; scripts/soak shows
        // them level off. The counters fill their slots and agent history fills up to its bound per agent, later when
        // the machine is loaded (both checked against their bounds instead).
        foreach (var table in tables.Where(t => t is not ("noorg_task_samples" or "noorg_task_counts" or "noorg_task_group_counts" or "noorg_agent_events")))
        {
            var middle = samples.Skip(third).Take(third).Max(s => s.Rows[table]);
            var late = samples.Skip(2 * third).Max(s => s.Rows[table]);
            if (late > (middle * 1.2) + 12)
            {
                growing.Add($"{table}: {middle} -> {late}");
            }
        }

        Assert.True(growing.Count == 0, $"tables still growing after {produced} of each kind: {string.Join(", ", growing)}");
    }

    /// <summary>No agent ever holds more history than its bound: the table never exceeds agents x bound.</summary>
    private static async Task AssertAgentHistoryBoundedAsync(RetentionCluster rc, List<(TimeSpan At, Dictionary<string, long> Rows)> samples)
    {
        var agents = await rc.CountAsync("noorg_agents");
        Assert.True(agents >= 5, $"only {agents} agents"); // the worker and the four flaky agents
        Assert.InRange(samples.Max(s => s.Rows["noorg_agent_events"]), 1, agents * AgentHistoryLimit);
        Assert.Equal(0, await rc.CountAsync(
            "(SELECT agent_id FROM noorg_agent_events GROUP BY agent_id HAVING COUNT(*) > " + AgentHistoryLimit.ToString(CultureInfo.InvariantCulture) + ") AS over_bound"));
    }

    private static async Task AssertCountersBoundedAsync(RetentionCluster rc)
    {
        var counters = await rc.CountAsync("(SELECT DISTINCT dimension, value FROM noorg_task_counts) AS c");
        Assert.InRange(await rc.CountAsync("noorg_task_counts"), 0, counters * CounterSlots);
        var groups = await rc.CountAsync("(SELECT DISTINCT state, type, priority FROM noorg_task_group_counts) AS g");
        Assert.InRange(await rc.CountAsync("noorg_task_group_counts"), 0, groups * CounterSlots);
        Assert.InRange(counters, 1, 20); // states, priorities, one type, outcomes: no counter per task
    }

    private async Task AssertStatisticsMatchStoredRowsAsync(RetentionCluster rc, string agentId)
    {
        var queries = rc.Client.GetGrain<ITaskQueryGrain>(0);
        var statistics = await queries.StatisticsAsync();
        var rows = await rc.CountAsync("noorg_tasks");
        output.WriteLine($"statistics: total {statistics.Total} (rows {rows}), median {statistics.MedianProcessingTime}, success rate {statistics.SuccessRate}");
        Assert.Equal(statistics.ByState.Values.Sum(), statistics.Total);
        Assert.InRange(statistics.Total, rows - 20, rows + 20); // tasks keep finishing and going between the two reads
        Assert.Equal(1.0, statistics.SuccessRate); // outcome counts survive the removal of the tasks they count

        // The estimate is the nearest-rank median of the newest 10 stored samples (read twice, as completions may land between).
        var (estimate, newest) = await Eventually.ReturnsAsync(async () =>
        {
            var e = await queries.EstimateAsync("soak", agentId, TaskPriority.Medium);
            var n = (await rc.StringsAsync(
                    $"SELECT processing_ms FROM noorg_task_samples WHERE type = 'soak' AND agent_id = '{agentId}' ORDER BY completed_at DESC, id DESC LIMIT 10"))
                .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).Order().ToArray();
            return (e, n);
        }, r => r.n.Length == 10 && r.e.Median == TimeSpan.FromMilliseconds(r.n[4]), TimeSpan.FromSeconds(20), "the estimate to match the stored samples");
        Assert.Equal(10, estimate.SampleCount);
        Assert.False(estimate.FromPrior);
        Assert.Equal(TimeSpan.FromMilliseconds(newest[8]), estimate.P90); // rank ceil(0.9 x 10)
    }

    /// <summary>Finished sagas pile up, and the silo that is not primary is killed while retention removes them.</summary>
    private async Task KillDuringSagaRemovalAsync(RetentionCluster rc, string[] effects)
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            (await rc.Client.StartSagaAsync(Chain, new TestSagaInput(effects[i % effects.Length], FailAt: i % 2 == 0 ? null : "s2").ToJson())).Id));
        var before = await rc.CountAsync("noorg_sagas");
        await Eventually.ReturnsAsync(() => rc.CountAsync("noorg_sagas"), n => n < before - 5, TimeSpan.FromSeconds(60), "retention to be removing sagas");
        await rc.Cluster.KillSiloAsync(rc.Cluster.SecondarySilos[0]);
        output.WriteLine($"killed a silo with {await rc.CountAsync("noorg_sagas")} sagas left of {before}");

        Assert.Empty(await rc.PartialSagasAsync());
        // Every saga (those the kill interrupted resume on the other silo) finishes and is then removed whole.
        // The probe names the sagas left (id, status, last change) so that a time-out says where they stand.
        await Eventually.ReturnsAsync(async () =>
        {
            var left = await rc.StringsAsync("SELECT id || ' ' || status || ' ' || CAST(updated_at AS TEXT) FROM noorg_sagas ORDER BY id");
            return (Left: string.Join(", ", left), Count: left.Count, Partial: string.Join(", ", await rc.PartialSagasAsync()));
        }, r => r.Count == 0 && r.Partial.Length == 0, TimeSpan.FromSeconds(90), "every saga to finish and be removed whole after the kill");
        Assert.Equal(0, await rc.CountAsync("orleans_grain_state", "state_name IN ('saga-step', 'saga-compensation')"));
        Assert.NotEmpty(ids);
    }

    /// <summary>
    /// An agent that beats, falls silent until its monitor judges it unhealthy (which opens a heartbeat issue), and beats
    /// again until the issue is resolved, over and over; returns how many of its issues were resolved.
    /// </summary>
    private static async Task<int> FlakyAgentAsync(IClusterClient client, string id, CancellationToken stop)
    {
        var agent = client.GetGrain<IAgentGrain>(id);
        var monitor = client.GetGrain<IAgentHealthGrain>(id);
        await agent.RegisterAsync(new AgentRegistration(id, "soak-flaky", "falls silent now and then", [id], 1, new Dictionary<string, string>()));
        var resolved = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                while (await HealthOfAsync(monitor) is not { Status: HealthStatus.Unhealthy })
                {
                    await Task.Delay(200, stop);
                }

                while ((await monitor.GetAsync()).Issues.Any(i => i.Check == "heartbeat" && i.State == HealthIssueState.Open))
                {
                    await agent.HeartbeatAsync();
                    await Task.Delay(300, stop);
                }

                resolved++;
            }
        }
        catch (OperationCanceledException)
        {
        }

        return resolved;
    }

    /// <summary>Null until the monitor, started off the registration's path, is there.</summary>
    private static async Task<AgentHealth?> HealthOfAsync(IAgentHealthGrain monitor)
    {
        try
        {
            return await monitor.GetAsync();
        }
        catch (NoOrg.Grains.Errors.NotFoundException)
        {
            return null;
        }
    }

    /// <summary>They were produced through NoOrg's own paths, and retention removed them: its totals count them.</summary>
    private async Task AssertIssuesAndDeadLettersCameAndWentAsync(RetentionCluster rc, int issuesResolved, int produced)
    {
        await using var connection = await StorageConnections.OpenAsync(rc.Dialect, rc.ConnectionString, CancellationToken.None);
        var stats = (await DataStatistics.ReadAsync(connection, rc.Dialect)).ToDictionary(s => s.Kind);
        output.WriteLine($"health issues resolved {issuesResolved}, removed {stats["health-issues"].RemovedTotal}; " +
                         $"tasks created {produced}, dead letters removed {stats["dead-letters"].RemovedTotal}, left {stats["dead-letters"].Rows}");
        Assert.True(issuesResolved >= 4, $"only {issuesResolved} health issues were resolved");
        Assert.InRange(stats["health-issues"].RemovedTotal ?? 0, issuesResolved / 2, (issuesResolved * 2) + 8); // other checks (uptime) come and go too
        // One dead letter per task created (its task.created event); all but those of the last seconds are removed.
        Assert.InRange(stats["dead-letters"].RemovedTotal ?? 0, produced / 2, produced);
        // One handled message id per task created; all but those of the last few seconds are forgotten.
        output.WriteLine($"inbox ids handled {produced}, removed {stats["inbox"].RemovedTotal}, left {stats["inbox"].Rows}");
        Assert.InRange(stats["inbox"].RemovedTotal ?? 0, produced / 2, produced);
        var dead = rc.Dialect == StorageDialect.Postgres ? "dead" : "dead = 1";
        Assert.Equal(0, await rc.CountAsync("noorg_outbox", $"{dead} AND target_kind <> 'Webhook'")); // only the soak's webhook fails
        Assert.InRange(stats["health-issues"].Rows, 0, 4 * 6); // open ones (one per agent and check), and those resolved within the last second or so
    }

    private static Task<List<string>> TablesAsync(RetentionCluster rc) => rc.StringsAsync(rc.Dialect == StorageDialect.Postgres
        ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");

    private static async Task<Dictionary<string, long>> CountAllAsync(RetentionCluster rc, IReadOnlyList<string> tables)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            rows[table] = await rc.CountAsync(table);
        }

        return rows;
    }

    private void Report(List<(TimeSpan At, Dictionary<string, long> Rows)> samples, IReadOnlyList<string> tables)
    {
        var shown = tables.Where(t => samples.Any(s => s.Rows[t] != samples[0].Rows[t]) || samples[0].Rows[t] > 0).ToArray();
        output.WriteLine("seconds\t" + string.Join('\t', shown));
        foreach (var (at, rows) in samples.Where((_, i) => i % 2 == 0))
        {
            output.WriteLine(at.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "\t" + string.Join('\t', shown.Select(t => rows[t])));
        }
    }

    private static double Setting(string key, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

public sealed class SqliteRetentionSoakTests(ITestOutputHelper output) : RetentionSoakTests(StorageProvider.Sqlite, output);

public sealed class PostgresRetentionSoakTests(ITestOutputHelper output) : RetentionSoakTests(StorageProvider.Postgres, output);
