using System.Text.Json;
using NoOrg.Cli.Bench;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Bench;

/// <summary><c>noorg bench</c> with tiny durations against a real silo process: the JSON report holds every figure.</summary>
public sealed class BenchProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_on_the_embedded_sqlite_default_reports_every_operation_floor_ratio_and_scale_figure()
    {
        await RunBenchAsync(new Dictionary<string, string?>(), "sqlite");
    }

    [PostgresFact]
    public async Task Bench_on_postgres_reports_every_operation_floor_ratio_and_scale_figure()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        await RunBenchAsync(new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
            ["NOORG_CLUSTER_ADVERTISED_ADDRESS"] = "127.0.0.1",
        }, "postgres");
    }

    [PostgresFact]
    public async Task Write_profile_on_postgres_breaks_the_rows_down_by_table_and_grain_state()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        var data = Directory.CreateTempSubdirectory("noorg-bench-").FullName;
        var report = Path.Combine(data, "report.json");
        try
        {
            await using (var silo = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_STORAGE_PROVIDER"] = "postgres",
                ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
                ["NOORG_CLUSTER_ADVERTISED_ADDRESS"] = "127.0.0.1",
                ["NOORG_DASHBOARD_ENABLED"] = "false",
            }))
            {
                await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                var result = await ProcessRunner.RunAsync("noorg.dll",
                    ["bench", "--operation", "creation", "--concurrency", "1", "--warmup", "0.1", "--duration", "0.3", "--profile-writes", "5", "--out", report],
                    silo.Environment, timeout: TimeSpan.FromMinutes(3));
                Assert.True(result.ExitCode == 0, $"noorg bench failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}\n{silo.Output}");
            }

            var cost = Assert.Single(JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("writes").EnumerateArray());
            Assert.Equal("creation", cost.GetProperty("operation").GetString());
            var shares = cost.GetProperty("breakdown").EnumerateArray()
                .ToDictionary(s => s.GetProperty("source").GetString()!, s => s.GetProperty("perSample").GetDouble());
            output.WriteLine(string.Join(", ", shares.Select(p => $"{p.Key} {p.Value}")));

            // A created task is durable in its grain state and listed in the task index.
            Assert.True(shares.GetValueOrDefault("table noorg_tasks") >= 1, "the task index row");
            Assert.True(shares.GetValueOrDefault("table orleans_grain_state") >= 1, "the grain-state rows");
            Assert.Contains(shares, p => p.Key.StartsWith("state ", StringComparison.Ordinal) && p.Value >= 1);
            Assert.True(cost.GetProperty("rowsWrittenPerSample").GetDouble() >= shares["table noorg_tasks"]);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private async Task RunBenchAsync(Dictionary<string, string?> environment, string provider)
    {
        var data = Directory.CreateTempSubdirectory("noorg-bench-").FullName;
        var report = Path.Combine(data, "report.json");
        environment["NOORG_DASHBOARD_ENABLED"] = "false";
        try
        {
            await using (var silo = SiloProcess.Start(data, environment))
            {
                await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
                var result = await ProcessRunner.RunAsync("noorg.dll",
                    ["bench", "--concurrency", "1,2", "--warmup", "0.1", "--duration", "0.5", "--scale", "20", "--query-samples", "2", "--out", report, "--json"],
                    silo.Environment, timeout: TimeSpan.FromMinutes(5));
                output.WriteLine(result.StandardError);
                Assert.True(result.ExitCode == 0, $"noorg bench failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}\n{silo.Output}");
                Assert.Equal(
                    JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("operations").GetArrayLength(),
                    JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("operations").GetArrayLength());
            }

            var json = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement;
            Assert.Equal(provider, json.GetProperty("machine").GetProperty("storageProvider").GetString());
            Assert.True(json.GetProperty("machine").GetProperty("cores").GetInt32() > 0);

            var operations = json.GetProperty("operations").EnumerateArray().ToArray();
            Assert.Equal(BenchSuite.AllOperations, operations.Select(o => o.GetProperty("name").GetString()));
            foreach (var operation in operations)
            {
                var name = operation.GetProperty("name").GetString();
                var levels = operation.GetProperty("levels").EnumerateArray().ToArray();
                Assert.Equal([1, 2], levels.Select(l => l.GetProperty("concurrency").GetInt32()));
                foreach (var level in levels)
                {
                    var latency = level.GetProperty("latency");
                    Assert.True(level.GetProperty("count").GetInt64() > 0, $"{name}: no samples ({level.GetProperty("firstError")})");
                    Assert.True(level.GetProperty("throughput").GetDouble() > 0, $"{name}: no throughput");
                    Assert.True(latency.GetProperty("medianMs").GetDouble() > 0, $"{name}: no median");
                    Assert.True(latency.GetProperty("p95Ms").GetDouble() >= latency.GetProperty("medianMs").GetDouble(), $"{name}: p95 below the median");
                    Assert.True(latency.GetProperty("p99Ms").GetDouble() >= latency.GetProperty("p95Ms").GetDouble(), $"{name}: p99 below p95");
                    Assert.True(latency.GetProperty("maxMs").GetDouble() >= latency.GetProperty("p99Ms").GetDouble(), $"{name}: max below p99");
                }
            }

            var ratios = json.GetProperty("ratios").EnumerateArray().ToArray();
            Assert.Equal(7 * 2, ratios.Length);
            Assert.All(ratios, r =>
            {
                foreach (var figure in new[] { "throughputVsInsert", "p99VsInsert", "throughputVsPing", "p99VsPing" })
                {
                    Assert.True(r.GetProperty(figure).GetDouble() > 0, $"{r.GetProperty("operation")}: {figure}");
                }

                // The HTTP variants are stated against the grain-call operation of the same run they wrap; the others are not.
                var operation = r.GetProperty("operation").GetString();
                Assert.Equal(operation == "http-creation", r.GetProperty("throughputVsCreation").ValueKind == System.Text.Json.JsonValueKind.Number);
                Assert.Equal(operation == "http-lifecycle", r.GetProperty("throughputVsLifecycle").ValueKind == System.Text.Json.JsonValueKind.Number);
            });

            var scale = json.GetProperty("scale");
            Assert.Equal(20, scale.GetProperty("n").GetInt32());
            Assert.Equal(0, scale.GetProperty("errors").GetInt64());
            var after = Assert.Single(scale.GetProperty("memoryAfter").EnumerateArray());
            Assert.True(after.GetProperty("residentBytes").GetInt64() > 0);
            Assert.True(after.GetProperty("managedHeapBytes").GetInt64() > 0);
            Assert.True(after.GetProperty("activations").GetInt32() >= 40, "the scale phase's agents and tasks are active");
            Assert.Equal(["tasks list", "task stats", "agents find", "agent counts"],
                scale.GetProperty("queries").EnumerateArray().Select(q => q.GetProperty("name").GetString()));
            Assert.All(scale.GetProperty("queries").EnumerateArray(), q => Assert.Equal(2, q.GetProperty("latency").GetProperty("count").GetInt64()));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
