using System.Diagnostics;
using Npgsql;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Errors;

/// <summary>
/// The short version of <c>scripts/rehearse-db-outage</c>: real processes on a PostgreSQL cluster of the test's own,
/// which is stopped while tasks run on <c>--max 1</c> workers. Needs root (it creates and stops that cluster).
/// </summary>
public sealed class DatabaseOutageProcessTests(ITestOutputHelper output)
{
    private const int Tasks = 40;
    private const int Workers = 4;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    [SkippableFact]
    public async Task After_a_database_outage_every_task_completes_once_and_no_worker_is_lost()
    {
        Skip.IfNot(Environment.UserName == "root" && File.Exists("/usr/bin/pg_createcluster"),
            "needs root and the PostgreSQL server package: the test creates and stops a PostgreSQL cluster of its own");
        await using var postgres = await OwnCluster.CreateAsync();
        var data = Directory.CreateTempSubdirectory("noorg-outage-").FullName;
        var workers = new List<Process>();
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_STORAGE_PROVIDER"] = "postgres",
                ["NOORG_STORAGE_CONNECTION_STRING"] = postgres.ConnectionString,
                ["NOORG_CLUSTER_ADVERTISED_ADDRESS"] = "127.0.0.1",
                ["NOORG_DASHBOARD_ENABLED"] = "false",
                ["NOORG_SAGAS_RUN_DEMO"] = "false",
            });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            await Parallel.ForEachAsync(Enumerable.Range(0, Tasks), new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (i, _) =>
            {
                var created = await ProcessRunner.RunAsync("noorg.dll",
                    ["tasks", "create", "--name", $"outage-{i}", "--type", "sleep", "--input", "{\"ms\":1500}", "--json"], silo.Environment);
                Assert.True(created.ExitCode == 0, $"creating task {i} failed: {created.StandardError}");
            });

            for (var i = 0; i < Workers; i++)
            {
                workers.Add(WorkerProcess.Start(silo.Environment, "--id", $"outage-{i}", "--max", "1", "--capability", "sleep"));
            }

            await WaitAsync(async () => await postgres.ScalarAsync("SELECT count(*) FROM noorg_tasks WHERE state = 'completed'") >= 2,
                TimeSpan.FromMinutes(2), "the first completions");
            var before = await postgres.ScalarAsync("SELECT count(*) FROM noorg_tasks WHERE state = 'completed'");
            await postgres.StopAsync();
            await Task.Delay(Outage);
            await postgres.StartAsync();
            output.WriteLine($"{before} of {Tasks} completed before the outage");

            await WaitAsync(async () => await postgres.ScalarAsync("SELECT count(*) FROM noorg_tasks WHERE state <> 'completed'") == 0,
                TimeSpan.FromMinutes(4), "every task to complete after the outage");

            Assert.All(workers, w => Assert.False(w.HasExited, "a worker process ended"));

            // Handler runs per task: Started events (action 5); a second run must follow a reassignment (2 or 4).
            var unexplained = await postgres.ScalarAsync("""
                SELECT count(*) FROM (
                  SELECT t.id,
                         count(*) FILTER (WHERE (e.event->>'Action')::int = 5) AS started,
                         count(*) FILTER (WHERE (e.event->>'Action')::int IN (2, 4)) AS assigned
                    FROM noorg_tasks t JOIN noorg_task_events e ON e.task_id = t.id GROUP BY t.id) r
                 WHERE started <> 1 AND NOT (started > 1 AND assigned >= started)
                """);
            Assert.Equal(0, unexplained);
            Assert.DoesNotContain("CodecNotFoundException", silo.Output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                    await worker.WaitForExitAsync();
                }

                worker.Dispose();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await HoldsAsync(condition))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {timeout.TotalSeconds}s waiting for {what}");
            await Task.Delay(500);
        }
    }

    private static async Task<bool> HoldsAsync(Func<Task<bool>> condition)
    {
        try
        {
            return await condition();
        }
        catch (NpgsqlException)
        {
            return false; // the database is still coming back
        }
    }

    /// <summary>A PostgreSQL cluster of the test's own on a free port, dropped at the end.</summary>
    private sealed class OwnCluster : IAsyncDisposable
    {
        private readonly string version;
        private readonly string name;

        private OwnCluster(string version, string name, int port)
        {
            this.version = version;
            this.name = name;
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=noorg;Password=noorg;Database=noorg;Timeout=5";
        }

        public string ConnectionString { get; }

        public static async Task<OwnCluster> CreateAsync()
        {
            var version = (await RunAsync("pg_lsclusters", "-h")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            var cluster = new OwnCluster(version, $"noorg_outage_{Environment.ProcessId}", FreePorts.Next());
            var port = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RunAsync("pg_createcluster", version, cluster.name, "-p", port);
            await cluster.StartAsync();
            await RunAsync("su", "postgres", "-c",
                $"psql -q -p {port} -c \"CREATE ROLE noorg LOGIN PASSWORD 'noorg'\" -c \"CREATE DATABASE noorg OWNER noorg\"");
            return cluster;
        }

        public Task StartAsync() => RunAsync("pg_ctlcluster", version, name, "start");

        public Task StopAsync() => RunAsync("pg_ctlcluster", version, name, "stop", "--", "-m", "fast");

        public async Task<long> ScalarAsync(string sql)
        {
            // Unpooled: a pooled connection would outlive the outage and fail once on its first use after it.
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await RunAsync("pg_dropcluster", "--stop", version, name);
        }

        private static async Task<string> RunAsync(string file, params string[] arguments)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {await stderr}");
            return await stdout;
        }
    }
}
