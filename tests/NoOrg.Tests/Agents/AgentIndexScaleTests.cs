using System.Diagnostics;
using System.Globalization;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace NoOrg.Tests.Agents;

/// <summary>
/// How the registry index answers with many agents in PostgreSQL. Runs only when NOORG_SCALE_AGENTS names the
/// number of agents (e.g. 100000): loading them takes a while, and the figures go to the test output.
/// </summary>
public sealed class AgentIndexScaleTests(ITestOutputHelper output)
{
    public const string Variable = "NOORG_SCALE_AGENTS";
    private const int CapabilityCount = 50;
    private const int CapabilitiesPerAgent = 3;
    private const int Runs = 5;
    private static readonly string[] Types = ["planner", "coder", "reviewer", "translator", "analyst"];

    [SkippableFact]
    public async Task Capability_queries_answer_in_milliseconds_at_scale()
    {
        var setting = Environment.GetEnvironmentVariable(Variable);
        Skip.If(string.IsNullOrEmpty(setting), $"{Variable} is not set; set it to a number of agents (e.g. 100000) to measure the agent index at scale.");
        Skip.IfNot(TestDatabases.PostgresAvailable, TestDatabases.PostgresSkipReason);
        var count = int.Parse(setting, CultureInfo.InvariantCulture);

        await using var database = await TestDatabases.CreatePostgresAsync();
        await new SchemaMigrator(StorageDialect.Postgres, database.ConnectionString).MigrateAsync();
        var index = new SqlAgentIndex(new IndexDatabase(StorageDialect.Postgres, database.ConnectionString));
        var rows = new AgentStateRows(StorageDialect.Postgres, database.ConnectionString);
        var agents = Generate(count);

        var load = Stopwatch.StartNew();
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (agent, _) => await rows.WriteAsync(agent));
        await SetLoadAsync(database.ConnectionString, agents);
        load.Stop();
        await VacuumAnalyzeAsync(database.ConnectionString);

        string[] wanted = ["cap-03", "cap-17"];
        var capable = agents.Where(a => wanted.All(a.Registration.Capabilities.Contains)).ToList();
        var expectedCandidates = capable
            .Where(a => a.Status is AgentStatus.Available or AgentStatus.Busy && a.ActiveTaskIds.Count < a.Registration.MaxConcurrentTasks)
            .OrderBy(a => (double)a.ActiveTaskIds.Count / a.Registration.MaxConcurrentTasks)
            .ThenBy(a => a.ActiveTaskIds.Count)
            .ThenBy(a => a.Id, StringComparer.Ordinal)
            .Take(10)
            .Select(a => a.Id)
            .ToList();

        var (findMs, found) = await MeasureAsync(() => index.FindAsync(new AgentQuery(wanted, Take: 100)));
        var (findOneMs, foundOne) = await MeasureAsync(() => index.FindAsync(new AgentQuery([wanted[0]], Take: 100)));
        var (findFilteredMs, foundAvailable) = await MeasureAsync(() => index.FindAsync(new AgentQuery(wanted, Type: "coder", Status: AgentStatus.Available)));
        var (candidatesMs, candidates) = await MeasureAsync(() => index.CandidatesAsync(wanted, 10));
        var (coverageMs, coverage) = await MeasureAsync(() => index.CapabilityCoverageAsync(wanted));
        var (countMs, counts) = await MeasureAsync(() => index.CountAsync());
        var (capabilitiesMs, capabilities) = await MeasureAsync(() => index.CapabilitiesAsync());

        output.WriteLine($"{count} agents, {CapabilitiesPerAgent} of {CapabilityCount} capabilities each, PostgreSQL; median of {Runs} runs after a warm-up");
        output.WriteLine($"load: {count} projections in {load.Elapsed.TotalSeconds:F1} s ({count / load.Elapsed.TotalSeconds:F0}/s, 16 in parallel)");
        output.WriteLine($"FindAsync [cap-03, cap-17], first 100 of {found.Total}: {findMs}");
        output.WriteLine($"FindAsync [cap-03], first 100 of {foundOne.Total}: {findOneMs}");
        output.WriteLine($"FindAsync [cap-03, cap-17] + type + status ({foundAvailable.Total}): {findFilteredMs}");
        output.WriteLine($"CandidatesAsync [cap-03, cap-17], 10: {candidatesMs}");
        output.WriteLine($"CapabilityCoverageAsync [cap-03, cap-17] = {coverage}: {coverageMs}");
        output.WriteLine($"CountAsync ({counts.Total}): {countMs}");
        output.WriteLine($"CapabilitiesAsync ({capabilities.Count}): {capabilitiesMs}");

        Assert.Equal(capable.Count, found.Total);
        Assert.Equal(agents.Count(a => a.Registration.Capabilities.Contains(wanted[0])), foundOne.Total);
        Assert.Equal(capable.Select(a => a.Id).Order(StringComparer.Ordinal).Take(100), found.Items.Select(s => s.Id));
        Assert.Equal(capable.Count(a => a.Registration.Type == "coder" && a.Status == AgentStatus.Available), foundAvailable.Total);
        Assert.Equal(expectedCandidates, candidates.Select(c => c.Id));
        Assert.Equal((capable.Count, capable.Count(a => a.Status is AgentStatus.Available or AgentStatus.Busy)), coverage);
        Assert.Equal(count, counts.Total);
        foreach (var status in Enum.GetValues<AgentStatus>())
        {
            Assert.Equal(agents.Count(a => a.Status == status), counts.ByStatus[status]);
        }

        foreach (var type in Types)
        {
            Assert.Equal(agents.Count(a => a.Registration.Type == type), counts.ByType[type]);
        }

        Assert.Equal(Enumerable.Range(0, CapabilityCount).Select(Capability), capabilities);
    }

    /// <summary>Deterministic agents: three distinct capabilities each, a spread of types, limits, loads and statuses.</summary>
    private static List<AgentSnapshot> Generate(int count)
    {
        var random = new Random(20240601);
        var now = DateTimeOffset.UtcNow;
        var agents = new List<AgentSnapshot>(count);
        for (var i = 0; i < count; i++)
        {
            var capabilities = new HashSet<string>(StringComparer.Ordinal);
            while (capabilities.Count < CapabilitiesPerAgent)
            {
                capabilities.Add(Capability(random.Next(CapabilityCount)));
            }

            var max = 1 + random.Next(4);
            var (status, active) = (i % 10) switch
            {
                0 => (AgentStatus.Busy, max),
                1 => (AgentStatus.Draining, 0),
                2 => (AgentStatus.Offline, 0),
                3 when i % 20 == 3 => (AgentStatus.Error, 0),
                _ => (AgentStatus.Available, random.Next(max)),
            };
            var registration = new AgentRegistration(
                $"agent {i}", Types[i % Types.Length], "", [.. capabilities], max, new Dictionary<string, string>());
            var tasks = Enumerable.Range(0, active).Select(t => $"task-{i}-{t}").ToList();
            agents.Add(new AgentSnapshot($"agent-{i:D7}", registration, status, null, tasks, now, now, now, 1));
        }

        return agents;
    }

    private static string Capability(int i) => $"cap-{i:D2}";

    /// <summary>
    /// An agent's load is counted by its tasks' writes (migration 0018_agent_load), and these agents have no task rows:
    /// the load each would have is set in one statement.
    /// </summary>
    private static async Task SetLoadAsync(string connectionString, IReadOnlyList<AgentSnapshot> agents)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "UPDATE noorg_agents AS a SET active_tasks = l.n FROM unnest(@ids, @loads) AS l (id, n) WHERE a.agent_id = l.id", connection);
        command.Parameters.AddWithValue("ids", agents.Select(a => a.Id).ToArray());
        command.Parameters.AddWithValue("loads", agents.Select(a => a.ActiveTaskIds.Count).ToArray());
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(Timing Ms, T Result)> MeasureAsync<T>(Func<Task<T>> query)
    {
        var result = await query(); // warm-up: connection pool, plan cache
        var times = new List<double>(Runs);
        for (var run = 0; run < Runs; run++)
        {
            var clock = Stopwatch.StartNew();
            result = await query();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (new Timing(times[Runs / 2], times[0]), result);
    }

    /// <summary>Median and fastest of the runs, in milliseconds: the fastest shows what is left when the machine is shared.</summary>
    private readonly record struct Timing(double Median, double Min)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"median {Median:F2} ms, min {Min:F2} ms");
    }

    private static async Task VacuumAnalyzeAsync(string connectionString)
    {
        // What autovacuum does soon after a bulk load; measured without it, the first queries would plan on no statistics.
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "noorg_agents", "noorg_agent_capabilities" })
        {
            // One statement per command: VACUUM cannot run inside the implicit transaction of a batch.
            await using var command = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection);
            command.CommandTimeout = 300;
            await command.ExecuteNonQueryAsync();
        }
    }
}
