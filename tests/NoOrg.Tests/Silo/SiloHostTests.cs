using System.Net;
using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Silo;

/// <summary>The silo host as an operator runs it: a real process on the embedded SQLite default.</summary>
public sealed class SiloHostTests : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("noorg-silo-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(dataDirectory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Embedded_default_becomes_ready_serves_the_dashboard_and_keeps_state_across_restarts()
    {
        long startsBefore;
        await using (var silo = SiloProcess.Start(dataDirectory))
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            using var http = new HttpClient { BaseAddress = silo.Http };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
            var dashboard = await http.GetStringAsync(new Uri("/dashboard/", UriKind.Relative));
            Assert.Contains("<html", dashboard, StringComparison.OrdinalIgnoreCase);

            startsBefore = await SiloStartsAsync(silo);
            Assert.True(startsBefore >= 1);
            Assert.Equal(0, await silo.StopAsync(TimeSpan.FromSeconds(60)));
        }

        Assert.True(File.Exists(Path.Combine(dataDirectory, "noorg.db")), "the SQLite file lives in the data directory");

        await using (var silo = SiloProcess.Start(dataDirectory))
        {
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            // The history written by the first run is read back and extended by the second.
            var startsAfter = await Cluster.Eventually.ReturnsAsync(() => SiloStartsAsync(silo), s => s > startsBefore,
                TimeSpan.FromSeconds(30), "the restarted silo to record its start");
            Assert.Equal(startsBefore + 1, startsAfter);
        }
    }

    [Fact]
    public async Task Dashboard_requires_an_api_key_when_authentication_is_on()
    {
        var key = new string('a', 40);
        await using var silo = SiloProcess.Start(dataDirectory, new Dictionary<string, string?>
        {
            ["NOORG_SECURITY_REQUIRE_AUTH"] = "true",
            ["NOORG_SECURITY_API_KEYS"] = key,
        });
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = silo.Http };

        var anonymous = await http.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/", UriKind.Relative));
        wrong.Headers.Add("X-Api-Key", new string('b', 40));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/", UriKind.Relative));
        right.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right)).StatusCode);
    }

    private static async Task<long> SiloStartsAsync(SiloProcess silo)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", ["status", "--json"], silo.Environment);
        Assert.True(result.ExitCode == 0, $"noorg status failed: {result.StandardError}");
        var status = JsonDocument.Parse(result.StandardOutput).RootElement;
        Assert.Equal(1, status.GetProperty("activeSilos").GetInt32());
        return status.GetProperty("siloStarts").GetInt64();
    }
}
