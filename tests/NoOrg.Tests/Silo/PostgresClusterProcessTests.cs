using System.Diagnostics;
using System.Text.Json;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Silo;

/// <summary>Two real silo processes on PostgreSQL find each other through the database, and so does the CLI.</summary>
public sealed class PostgresClusterProcessTests(ITestOutputHelper output)
{
    [PostgresFact]
    public async Task Silos_and_clients_find_each_other_through_postgres_and_a_killed_silo_is_declared_dead()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        var data = Directory.CreateTempSubdirectory("noorg-pg-silo-").FullName;
        var cluster = new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
            ["NOORG_CLUSTER_ADVERTISED_ADDRESS"] = "127.0.0.1",
            ["NOORG_DASHBOARD_ENABLED"] = "false",
        };
        try
        {
            await using var first = SiloProcess.Start(data, cluster);
            await using var second = SiloProcess.Start(data, cluster);
            await Task.WhenAll(first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)));

            // The CLI is given only the database: it must find the gateways there.
            Assert.Equal(2, await ActiveSilosAsync(cluster));

            var clock = Stopwatch.StartNew();
            await second.KillAsync();
            // While the dead silo is still listed, a new client may fail to reach it: that poll counts as "not yet".
            await Cluster.Eventually.ReturnsAsync(() => ActiveSilosAsync(cluster, failureMeans: -1), n => n == 1, TimeSpan.FromSeconds(60),
                "the survivor to declare the killed silo dead");
            output.WriteLine($"killed silo declared dead (noorg status shows 1 active) after {clock.Elapsed.TotalSeconds:F1}s");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<int> ActiveSilosAsync(IReadOnlyDictionary<string, string?> environment, int? failureMeans = null)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", ["status", "--json"], environment);
        if (result.ExitCode != 0 && failureMeans is { } value)
        {
            Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
            return value;
        }

        Assert.True(result.ExitCode == 0, $"noorg status failed: {result.StandardError}");
        return JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("activeSilos").GetInt32();
    }
}
