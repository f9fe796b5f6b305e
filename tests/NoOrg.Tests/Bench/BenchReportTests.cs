using System.Text.Json;
using NoOrg.Cli;
using NoOrg.Cli.Bench;
using NoOrg.Cli.Commands;

namespace NoOrg.Tests.Bench;

/// <summary>The latency recorder's percentiles, the ratios to the floors, option checks and the JSON report's shape.</summary>
public sealed class BenchReportTests
{
    [Fact]
    public void Percentiles_of_one_to_a_thousand_milliseconds_are_exact_to_three_significant_digits()
    {
        var recorder = new LatencyRecorder();
        foreach (var ms in Enumerable.Range(1, 1000).Reverse())
        {
            recorder.Record(TimeSpan.FromMilliseconds(ms));
        }

        var summary = recorder.Summarize();
        Assert.Equal(1000, summary.Count);
        Assert.InRange(summary.MedianMs, 500 * 0.999, 500 * 1.001);
        Assert.InRange(summary.P95Ms, 950 * 0.999, 950 * 1.001);
        Assert.InRange(summary.P99Ms, 990 * 0.999, 990 * 1.001);
        Assert.InRange(summary.MaxMs, 1000 * 0.999, 1000 * 1.001);
        Assert.InRange(summary.MeanMs, 500.5 * 0.999, 500.5 * 1.001);
    }

    [Fact]
    public async Task Concurrent_recording_loses_no_sample_and_a_single_outlier_is_the_max_not_the_p99()
    {
        var recorder = new LatencyRecorder();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                recorder.Record(TimeSpan.FromMicroseconds(250));
            }
        })));
        recorder.Record(TimeSpan.FromSeconds(2));

        var summary = recorder.Summarize();
        Assert.Equal(80_001, summary.Count);
        Assert.InRange(summary.P99Ms, 0.249, 0.251);
        Assert.InRange(summary.MaxMs, 1998, 2002);
    }

    [Fact]
    public void An_empty_recorder_summarizes_to_zero_samples()
    {
        Assert.Equal(LatencySummary.Empty, new LatencyRecorder().Summarize());
    }

    [Fact]
    public void Ratios_compare_each_operation_with_the_floors_at_the_same_concurrency()
    {
        var report = Sample();

        var row = Assert.Single(report.Ratios, r => r.Operation == "creation" && r.Concurrency == 16);
        Assert.Equal(0.25, row.ThroughputVsInsert);
        Assert.Equal(3.0, row.P99VsInsert);
        Assert.Equal(0.01, row.ThroughputVsPing);
        Assert.Equal(30.0, row.P99VsPing);
        Assert.DoesNotContain(report.Ratios, r => r.Operation is "insert" or "ping");
        Assert.Equal(2, report.Ratios.Count);
    }

    [Fact]
    public void The_json_report_holds_configuration_machine_every_figure_ratios_and_scale()
    {
        var json = JsonDocument.Parse(CliContext.ToJson(Sample())).RootElement;

        Assert.Equal([1, 16], json.GetProperty("configuration").GetProperty("levels").EnumerateArray().Select(e => e.GetInt32()));
        var machine = json.GetProperty("machine");
        foreach (var name in new[] { "cores", "memoryBytes", "os", "runtime", "orleansVersion", "storageProvider", "database", "silos" })
        {
            Assert.True(machine.TryGetProperty(name, out _), $"machine.{name} missing");
        }

        var level = json.GetProperty("operations")[2].GetProperty("levels")[1];
        Assert.Equal(16, level.GetProperty("concurrency").GetInt32());
        Assert.Equal(250.0, level.GetProperty("throughput").GetDouble());
        foreach (var name in new[] { "count", "medianMs", "p95Ms", "p99Ms", "maxMs", "meanMs" })
        {
            Assert.True(level.GetProperty("latency").TryGetProperty(name, out _), $"latency.{name} missing");
        }

        Assert.Equal("creation", json.GetProperty("ratios")[1].GetProperty("operation").GetString());
        Assert.Equal(4, json.GetProperty("writes")[0].GetProperty("rowsWrittenPerSample").GetDouble());
        var breakdown = json.GetProperty("writes")[0].GetProperty("breakdown");
        Assert.Equal(("state task", 1.5), (breakdown[0].GetProperty("source").GetString(), breakdown[0].GetProperty("perSample").GetDouble()));
        var scale = json.GetProperty("scale");
        Assert.Equal(100_000, scale.GetProperty("n").GetInt32());
        Assert.Equal(123L << 20, scale.GetProperty("memoryAfter")[0].GetProperty("residentBytes").GetInt64());
        Assert.Equal("tasks list", scale.GetProperty("queries")[0].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData(new[] { 0 }, 1.0, null, "--concurrency")]
    [InlineData(new[] { 1 }, 0.0, null, "--duration")]
    [InlineData(new[] { 1 }, 1.0, "nonsense", "--operation: unknown nonsense")]
    public void Bad_options_are_named(int[] levels, double seconds, string? operation, string expected)
    {
        var plan = new BenchPlan(levels, TimeSpan.Zero, TimeSpan.FromSeconds(seconds), 0, 0, 1, operation is null ? BenchSuite.AllOperations : [operation]);

        Assert.StartsWith(expected, BenchCommand.Problem(plan), StringComparison.Ordinal);
    }

    [Fact]
    public void Good_options_pass()
    {
        Assert.Null(BenchCommand.Problem(new BenchPlan([1, 16, 64], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), 0, 100_000, 20, BenchSuite.AllOperations)));
    }

    private static BenchReport Sample()
    {
        static LevelResult Level(int c, double throughput, double p99) =>
            new(c, (long)throughput, 0, null, 1, throughput, new LatencySummary((long)throughput, p99 / 2, p99 * 0.9, p99, p99 * 2, p99 / 2));

        OperationResult[] operations =
        [
            new("ping", "a ping", true, [Level(1, 5000, 0.5), Level(16, 25_000, 1)]),
            new("insert", "an insert", true, [Level(1, 500, 4), Level(16, 1000, 10)]),
            new("creation", "a creation", false, [Level(1, 100, 20), Level(16, 250, 30)]),
        ];
        var memory = new SiloMemoryReading("S127.0.0.1:1:1", 123L << 20, 50L << 20, 80L << 20, 10, 60L << 20);
        return new BenchReport(
            "1.0.0", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1),
            new BenchConfiguration([1, 16], 1, 1, 0, 100_000, 20, BenchSuite.AllOperations, 100),
            new MachineInfo(2, 1L << 34, "Linux", ".NET 10", "10.4.2", "postgres", "PostgreSQL 15", 1, "1.0 1.0 1.0", "2.0 1.0 1.0"),
            operations, RatioRow.From(operations), [new WriteCost("creation", 100, 4, 6.5, [new WriteShare("state task", 1.5), new WriteShare("table noorg_tasks", 1)])],
            new ScaleResult(100_000, 10, 20, 0, [memory], [memory], [new QueryResult("tasks list", "ListAsync", new LatencySummary(20, 1, 2, 3, 4, 1))]));
    }
}
