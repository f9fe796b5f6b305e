using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Configuration;

/// <summary>Configuration as the programs see it: the silo and the CLI run as real processes.</summary>
public sealed class StartupConfigurationTests
{
    [Fact]
    public async Task Silo_with_invalid_configuration_exits_non_zero_listing_every_problem_before_orleans_starts()
    {
        var result = await ProcessRunner.RunAsync("NoOrg.Silo.dll", [], new Dictionary<string, string?>
        {
            ["NOORG_CLUSTER_SILO_PORT"] = "abc",
            ["NOORG_STORAGE_PROVIDER"] = "oracle",
        });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("NOORG_CLUSTER_SILO_PORT='abc'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("NOORG_STORAGE_PROVIDER='oracle'", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Orleans", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Env_file_is_read_from_the_working_directory_and_the_environment_wins()
    {
        var directory = Directory.CreateTempSubdirectory("noorg-env-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, ".env"),
                "NOORG_CLUSTER_ID=from-file\nNOORG_CLUSTER_SERVICE_ID=file-service\n");

            var result = await ProcessRunner.RunAsync("noorg.dll", ["config", "check", "--json"],
                new Dictionary<string, string?> { ["NOORG_CLUSTER_SERVICE_ID"] = "from-environment" }, directory);

            Assert.Equal(0, result.ExitCode);
            var values = JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray()
                .ToDictionary(e => e.GetProperty("key").GetString()!, e => e.GetProperty("value").GetString());
            Assert.Equal("from-file", values["NOORG_CLUSTER_ID"]);
            Assert.Equal("from-environment", values["NOORG_CLUSTER_SERVICE_ID"]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Cli_reports_bad_configuration_as_json_with_a_non_zero_exit()
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", ["config", "check", "--json"],
            new Dictionary<string, string?> { ["NOORG_TIMEOUTS_RESPONSE_SECONDS"] = "soon" });

        Assert.Equal(2, result.ExitCode);
        var error = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("error").GetString();
        Assert.Contains("NOORG_TIMEOUTS_RESPONSE_SECONDS='soon'", error, StringComparison.Ordinal);
    }
}
