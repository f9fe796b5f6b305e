using System.Net;
using System.Net.Sockets;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Silo;

/// <summary>What the silo's log and start-up tell an operator: lifecycle and problems, not traffic; a busy port in one line.</summary>
public sealed class SiloLogProcessTests
{
    [Fact]
    public async Task The_log_follows_NOORG_ENVIRONMENT_and_shows_no_per_call_traffic_at_information()
    {
        var data = Directory.CreateTempSubdirectory("noorg-log-").FullName;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false", ["NOORG_ENVIRONMENT"] = "staging" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            for (var i = 0; i < 3; i++)
            {
                var created = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "create", "--name", $"traffic {i}", "--type", "nobody-log"], silo.Environment);
                Assert.True(created.ExitCode == 0, created.StandardError);
            }

            var log = silo.Output;
            Assert.Contains("Hosting environment: Staging", log, StringComparison.Ordinal);
            Assert.DoesNotContain("info: Polly", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Resilience pipeline executed", log, StringComparison.Ordinal);
            Assert.DoesNotContain("Recorded opened connection", log, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("NOORG_CLUSTER_SILO_PORT")]
    [InlineData("NOORG_CLUSTER_GATEWAY_PORT")]
    public async Task A_port_in_use_is_one_line_naming_the_setting_and_exit_2_before_orleans_starts(string key)
    {
        var data = Directory.CreateTempSubdirectory("noorg-port-").FullName;
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false", [key] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var exitCode = await silo.WaitForExitAsync(timeout.Token);

            Assert.Equal(2, exitCode);
            var lines = silo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"{key}: port {port} is already in use (another silo on this machine?); set {key} to a free port.", Assert.Single(lines).TrimEnd('\r'));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
