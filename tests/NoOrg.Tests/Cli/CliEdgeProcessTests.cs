using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Cli;

/// <summary>The CLI as a process, for what only a process shows: what reaches the terminal and the exit code.</summary>
public sealed class CliEdgeProcessTests
{
    private const string Escape = "\u001b";

    [Theory]
    [InlineData("tasks|assign|t-1|")] // an empty agent id
    [InlineData("tasks|create|--name|n|--type|t|--priority|99")]
    public async Task An_input_error_is_one_line_on_standard_error_and_exit_2(string arguments)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", arguments.Split('|'), new Dictionary<string, string?>());

        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.StandardError, StringComparison.Ordinal);
        Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Names_with_escape_sequences_are_shown_escaped_and_input_comes_from_a_file_or_standard_input()
    {
        var data = Directory.CreateTempSubdirectory("noorg-edge-").FullName;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var type = $"edge-{Guid.NewGuid():N}"[..13];
            var input = Path.Combine(data, "input.json");
            await File.WriteAllTextAsync(input, """{"from":"file"}""");

            var fromFile = await RunAsync(silo, ["tasks", "create", "--name", $"{Escape}[2Jboom", "--type", type, "--input", "@" + input, "--json"]);
            var fromStdin = await RunAsync(silo, ["tasks", "create", "--name", "piped", "--type", type, "--input", "-", "--json"], """{"from":"stdin"}""");
            var id = JsonDocument.Parse(fromFile.StandardOutput).RootElement.GetProperty("id").GetString()!;
            Assert.Equal("""{"from":"file"}""", JsonDocument.Parse(fromFile.StandardOutput).RootElement.GetProperty("spec").GetProperty("inputJson").GetString());
            Assert.Equal("""{"from":"stdin"}""", JsonDocument.Parse(fromStdin.StandardOutput).RootElement.GetProperty("spec").GetProperty("inputJson").GetString());
            Assert.Equal($"{Escape}[2Jboom", JsonDocument.Parse(fromFile.StandardOutput).RootElement.GetProperty("spec").GetProperty("name").GetString());

            var list = await RunAsync(silo, ["tasks", "list", "--type", type]);
            var show = await RunAsync(silo, ["tasks", "show", id]);
            foreach (var output in new[] { list.StandardOutput, show.StandardOutput })
            {
                Assert.DoesNotContain(Escape, output, StringComparison.Ordinal);
                Assert.Contains("\\u001b[2Jboom", output, StringComparison.Ordinal);
            }

            await File.WriteAllTextAsync(input, "{not json");
            var invalid = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "create", "--name", "bad", "--type", type, "--input", "@" + input], silo.Environment);
            Assert.Equal(2, invalid.ExitCode); // refused by the cluster's validation
            Assert.Contains("inputJson", invalid.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<ProcessRunner.Result> RunAsync(SiloProcess silo, string[] arguments, string? standardInput = null)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", arguments, silo.Environment, standardInput: standardInput);
        Assert.True(result.ExitCode == 0, $"noorg {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
        return result;
    }
}
