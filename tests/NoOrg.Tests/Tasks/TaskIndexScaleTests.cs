using System.Diagnostics;
using System.Globalization;
using NoOrg.Grains;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// How the task index behaves with many stored tasks: fills a fresh PostgreSQL database with
/// <c>NOORG_SCALE_TASKS</c> task states written as the grain storage writes them (the database projects each into the
/// index), then times listing, statistics
/// and the ready query (median of five runs) and checks their counts. Runs only when that variable is set:
/// <c>NOORG_SCALE_TASKS=100000 dotnet test tests/NoOrg.Tests --filter "FullyQualifiedName~TaskIndexScaleTests" --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class TaskIndexScaleTests(ITestOutputHelper output)
{
    public const string Variable = "NOORG_SCALE_TASKS";

    private const int Runs = 5;
    private const int Types = 20;
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [SkippableFact]
    public async Task Listing_statistics_and_ready_stay_fast_with_many_tasks()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        Skip.If(count <= 0, $"{Variable} is not set (e.g. {Variable}=100000): the task index scale measurement is skipped.");
        Skip.IfNot(TestDatabases.PostgresAvailable, TestDatabases.PostgresSkipReason);
        await using var database = await TestDatabases.CreatePostgresAsync();
        await new SchemaMigrator(StorageDialect.Postgres, database.ConnectionString).MigrateAsync();
        var index = new SqlTaskIndex(new IndexDatabase(StorageDialect.Postgres, database.ConnectionString));
        var rows = new TaskStateRows(StorageDialect.Postgres, database.ConnectionString);
        var now = T0.AddSeconds(count);

        var fill = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, _) => await rows.WriteAsync(Task(i, now)));
        fill.Stop();
        output.WriteLine($"wrote and projected {count} tasks in {fill.Elapsed.TotalSeconds:0.0} s ({count / fill.Elapsed.TotalSeconds:0} per second, 16 in parallel)");

        // What autovacuum does on its own shortly after a bulk load: measure the steady state, not the catch-up.
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var table in new[] { "noorg_tasks", "noorg_task_samples", "noorg_task_counts" })
            {
                await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {table}", connection);
                await vacuum.ExecuteNonQueryAsync();
            }
        }

        // Rounds of every query in turn, after one warm-up round (pool, plan cache): no query is favoured by its position.
        var query = new TaskQuery(States: [TaskState.Pending], Types: [TypeName(7)], Take: 50);
        var measured = new Measured();
        for (var round = 0; round <= Runs; round++)
        {
            var timed = round > 0;
            measured.Page = await measured.TimeAsync("QueryAsync (pending, one type, page of 50)", timed, () => index.QueryAsync(query));
            measured.All = await measured.TimeAsync("QueryAsync (no filter, page of 100)", timed, () => index.QueryAsync(new TaskQuery(Take: 100)));
            measured.Stats = await measured.TimeAsync("StatisticsAsync", timed, () => index.StatisticsAsync(now));
            measured.Ready = await measured.TimeAsync("ReadyAsync (limit 200)", timed, () => index.ReadyAsync(now, 200));
            measured.Estimate = await measured.TimeAsync("EstimateAsync (one type)", timed, () => index.EstimateAsync(TypeName(3), null));
        }

        foreach (var (name, times) in measured.Times)
        {
            times.Sort();
            output.WriteLine($"{name,-44} median {Ms(times[Runs / 2])} ms (of {Runs}: {string.Join(", ", times.Select(Ms))})");
        }

        await WritePlansAsync(database.ConnectionString, TypeName(7));
        var (page, unfiltered, stats, ready, estimate) = (measured.Page!, measured.All!, measured.Stats!, measured.Ready!, measured.Estimate);
        var states = Enumerable.Range(0, count).Select(StateOf).ToArray();
        Assert.Equal(count, stats.Total);
        foreach (var state in Enum.GetValues<TaskState>())
        {
            Assert.Equal(states.Count(s => s == state), stats.ByState[state]);
        }

        var expectedListed = Enumerable.Range(0, count).Count(i => StateOf(i) == TaskState.Pending && TypeOf(i) == 7);
        Assert.Equal(expectedListed, page.Total);
        Assert.Equal(Math.Min(50, expectedListed), page.Items.Count);
        Assert.All(page.Items, t => Assert.Equal((TaskState.Pending, TypeName(7)), (t.State, t.Type)));
        Assert.Equal(count, unfiltered.Total);
        var readyCount = Enumerable.Range(0, count).Count(i => StateOf(i) == TaskState.Pending && !Waits(i));
        Assert.Equal(Math.Min(200, readyCount), ready.Count);
        Assert.Equal(ready.OrderByDescending(r => r.Priority).ThenBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Select(r => r.Id), ready.Select(r => r.Id));
        Assert.NotNull(estimate);
    }

    /// <summary>The plans of the filtered listing's two statements (the page, and its total from the counters).</summary>
    private async Task WritePlansAsync(string connectionString, string type)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
        {
            "SELECT id, name, type, state, priority, assigned_to, attempt, created_at, updated_at FROM noorg_tasks WHERE state IN ($1) AND type IN ($2) ORDER BY created_at, id LIMIT 50 OFFSET 0",
            "SELECT CAST(SUM(tally) AS bigint) FROM noorg_task_group_counts WHERE state IN ($1) AND type IN ($2)",
        })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, connection);
            explain.Parameters.Add(new NpgsqlParameter { Value = "pending" });
            explain.Parameters.Add(new NpgsqlParameter { Value = type });
            await using var reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                output.WriteLine("  " + reader.GetString(0));
            }
        }
    }

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("0.00", CultureInfo.InvariantCulture);

    // Four in ten completed, one failed, one cancelled, two pending (one in ten of those waiting on a dependency),
    // one assigned, one running; twenty types and four priorities spread independently of the state.
    private static TaskState StateOf(int i) => (i % 10) switch
    {
        < 4 => TaskState.Completed,
        4 => TaskState.Failed,
        5 => TaskState.Cancelled,
        6 or 7 => TaskState.Pending,
        8 => TaskState.Assigned,
        _ => TaskState.Running,
    };

    private static int TypeOf(int i) => i / 10 % Types;

    private static string TypeName(int type) => $"type-{type:00}";

    private static bool Waits(int i) => i % 100 == 6;

    private static TaskSnapshot Task(int i, DateTimeOffset now)
    {
        var state = StateOf(i);
        var created = T0.AddSeconds(i);
        var terminal = state is TaskState.Completed or TaskState.Failed or TaskState.Cancelled;
        var finished = terminal ? now.AddSeconds(-(i % 3600)) : (DateTimeOffset?)null;
        var agent = state is TaskState.Pending or TaskState.Cancelled ? null : $"agent-{i % 50}";
        return new TaskSnapshot(
            $"task-{i:0000000}",
            new TaskSpec($"task {i}", TypeName(TypeOf(i)), Priority: (TaskPriority)(i / 3 % 4), RequiredCapabilities: [$"cap-{i % 7}"]),
            state, agent, Attempt: state is TaskState.Pending or TaskState.Assigned ? 0 : 1, created, finished ?? created, created,
            finished, NextAttemptAt: null, ResultJson: null, Error: null,
            ProcessingTime: state == TaskState.Completed ? TimeSpan.FromMilliseconds(100 + (i % 5000)) : null,
            WaitingOn: state == TaskState.Pending && Waits(i) ? ["dependency"] : [], UnassignableReason: null, Version: 1);
    }

    /// <summary>The latest result of each query and how long each timed run took.</summary>
    private sealed class Measured
    {
        public Dictionary<string, List<TimeSpan>> Times { get; } = [];

        public Page<TaskSummary>? Page { get; set; }

        public Page<TaskSummary>? All { get; set; }

        public TaskStatistics? Stats { get; set; }

        public IReadOnlyList<ReadyTask>? Ready { get; set; }

        public DurationEstimate? Estimate { get; set; }

        public async Task<T> TimeAsync<T>(string name, bool timed, Func<Task<T>> run)
        {
            var clock = Stopwatch.StartNew();
            var result = await run();
            if (timed)
            {
                (Times.TryGetValue(name, out var times) ? times : Times[name] = []).Add(clock.Elapsed);
            }

            return result;
        }
    }
}
