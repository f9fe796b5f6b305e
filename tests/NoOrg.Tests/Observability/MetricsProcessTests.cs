using NoOrg.Tests.Api;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Observability;

/// <summary>Two real silo processes on PostgreSQL, scraped the way Prometheus scrapes a cluster.</summary>
public sealed class MetricsProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [PostgresFact]
    public async Task Two_silos_report_the_cluster_task_counts_once_and_npgsql_metrics_name_no_connection_string()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        var data = Directory.CreateTempSubdirectory("noorg-obs-pg-").FullName;
        var cluster = new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
            ["NOORG_CLUSTER_ADVERTISED_ADDRESS"] = "127.0.0.1",
            ["NOORG_DASHBOARD_ENABLED"] = "false",
            ["NOORG_METRICS_CLUSTER_REFRESH_SECONDS"] = "1",
        };
        try
        {
            await using var first = SiloProcess.Start(data, cluster);
            await using var second = SiloProcess.Start(data, cluster);
            await Task.WhenAll(first.WaitUntilReadyAsync(Wait), second.WaitUntilReadyAsync(Wait));
            using var one = new HttpClient { BaseAddress = first.Http, Timeout = TimeSpan.FromSeconds(30) };
            using var two = new HttpClient { BaseAddress = second.Http, Timeout = TimeSpan.FromSeconds(30) };
            var nobody = "obs.nobody." + Guid.NewGuid().ToString("N")[..8];
            foreach (var http in new[] { one, two })
            {
                using var created = await http.PostAsync(new Uri("/v1/tasks", UriKind.Relative), ApiSilo.Json(new { name = "wait", type = "obs", requiredCapabilities = new[] { nobody } }));
                Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
            }

            // Prometheus sums a series over its targets: that must be the cluster's count, not twice it.
            var (a, b) = await Eventually.ReturnsAsync(async () => (await ScrapeAsync(one), await ScrapeAsync(two)),
                s => OrZero(Pending(s.Item1)) + OrZero(Pending(s.Item2)) == 2, Wait, "the two scrapes to add up to the 2 pending tasks");
            Assert.True(double.IsNaN(Pending(a)) != double.IsNaN(Pending(b)), "exactly one silo reports tasks by state");
            Assert.Equal(2, Created(a) + Created(b)); // each creation counted once, on the silo that hosts the task

            var scrape = a + b;
            Assert.Contains("db_client_", scrape, StringComparison.Ordinal); // Npgsql's own meter
            Assert.DoesNotContain("Host=", scrape, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Username=", scrape, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static double Pending(string scrape) => MetricsEndpointTests.Sample(scrape, "noorg_tasks_by_state", "state=\"pending\"");

    private static double Created(string scrape) => OrZero(MetricsEndpointTests.Sample(scrape, "noorg_tasks_created_total", "type=\"obs\""));

    /// <summary>A series a silo does not report counts as nothing.</summary>
    private static double OrZero(double value) => double.IsNaN(value) ? 0 : value;

    private static async Task<string> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }
}
