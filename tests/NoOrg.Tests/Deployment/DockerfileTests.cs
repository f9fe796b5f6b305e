using System.Globalization;
using NoOrg.Configuration;

namespace NoOrg.Tests.Deployment;

/// <summary>
/// The silo image without a Docker engine: its stages, user and ports read from the Dockerfile and held against the
/// settings' defaults, and its publish command run for real (about 60-90 s on 2 cores, once for the collection).
/// </summary>
[Collection(PublishedSiloCollection.Name)]
public sealed class DockerfileTests(PublishedSilo published)
{
    private DockerfileModel Dockerfile => published.Dockerfile;

    [Fact]
    public void Builds_with_the_sdk_and_runs_on_the_aspnet_runtime_from_the_build_stage_output()
    {
        Assert.Equal(2, Dockerfile.Stages.Count);
        var build = Dockerfile.Stages[0];
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", build.Image, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", Dockerfile.Final.Image, StringComparison.Ordinal);
        Assert.Contains(Dockerfile.Final.All("COPY"), c => c.StartsWith($"--from={build.Name} ", StringComparison.Ordinal));
        Assert.Equal("NoOrg.Silo.dll", published.EntryAssembly());
    }

    [Fact]
    public void Runs_as_a_numeric_non_root_user()
    {
        var user = Assert.Single(Dockerfile.Final.All("USER"));
        Assert.True(int.TryParse(user.Split(':')[0], CultureInfo.InvariantCulture, out var uid), $"USER {user} is not numeric: runAsNonRoot cannot verify a name");
        Assert.NotEqual(0, uid);
    }

    [Fact]
    public void Exposes_the_http_port_and_both_orleans_ports_of_the_default_settings()
    {
        var defaults = new ClusterSettings();
        var httpPort = new Uri(DockerfileModel.Environment(Dockerfile.Final)["NOORG_HTTP_URLS"]).Port;
        Assert.Equal(new Uri(new HttpSettings().UrlList[0]).Port, httpPort);

        var exposed = Dockerfile.Final.All("EXPOSE").SelectMany(e => e.Split(' ')).Select(p => int.Parse(p.Split('/')[0], CultureInfo.InvariantCulture));
        Assert.Equal(new[] { defaults.SiloPort, defaults.GatewayPort, httpPort }.Order(), exposed.Order());

        var healthcheck = Assert.Single(Dockerfile.Final.All("HEALTHCHECK"));
        Assert.Contains($"/dev/tcp/127.0.0.1/{httpPort}", healthcheck, StringComparison.Ordinal);
        Assert.Contains("/health/ready", healthcheck, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_published_silo_starts_and_becomes_ready()
    {
        Assert.True(published.Publish.ExitCode == 0, $"dotnet {string.Join(' ', published.PublishArguments("OUT"))} failed:\n{published.Publish.StandardOutput}{published.Publish.StandardError}");
        using var http = new HttpClient { BaseAddress = published.Silo.Http };
        using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
    }
}
