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
    public async Task Escape_sequences_in_stored_text_are_shown_escaped_and_input_comes_from_a_file_or_standard_input()
    {
        var data = Directory.CreateTempSubdirectory("noorg-edge-").FullName;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var type = $"edge-{Guid.NewGuid():N}"[..13];
            var input = Path.Combine(data, "input.json");
            await File.WriteAllTextAsync(input, """{"from":"file"}""");

            var refused = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "create", "--name", $"{Escape}[2Jboom", "--type", type], silo.Environment);
            Assert.Equal(2, refused.ExitCode); // a name may not hold control characters: the cluster's validation says so
            Assert.Contains("name: ESC (U+001B) at position 0", refused.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain(Escape, refused.StandardError, StringComparison.Ordinal);

            await RunAsync(silo, ["agents", "register", "edge-agent", "--name", "edge", "--type", "edge", "--capability", type]);
            var fromFile = await RunAsync(silo, ["tasks", "create", "--name", "from file", "--type", type, "--input", "@" + input, "--max-attempts", "1", "--json"]);
            var fromStdin = await RunAsync(silo, ["tasks", "create", "--name", "piped", "--type", type + "-other", "--input", "-", "--json"], """{"from":"stdin"}""");
            var task = JsonDocument.Parse(fromFile.StandardOutput).RootElement;
            Assert.Equal("""{"from":"file"}""", task.GetProperty("spec").GetProperty("inputJson").GetString());
            Assert.Equal("""{"from":"stdin"}""", JsonDocument.Parse(fromStdin.StandardOutput).RootElement.GetProperty("spec").GetProperty("inputJson").GetString());

            // A table on a pipe keeps each row on one line, however wide (a terminal's 80 columns would split it).
            var longName = string.Join(' ', Enumerable.Repeat("a-rather-long-task-name", 6));
            var wide = JsonDocument.Parse((await RunAsync(silo, ["tasks", "create", "--name", longName, "--type", type + "-wide", "--json"])).StandardOutput)
                .RootElement.GetProperty("id").GetString()!;
            var listed = await RunAsync(silo, ["tasks", "list", "--type", type + "-wide"]);
            Assert.Contains(listed.StandardOutput.Split('\n'), line => line.Contains(wide, StringComparison.Ordinal) && line.Contains(longName, StringComparison.Ordinal));

            // Free text may hold an escape sequence (a worker's error); every terminal output shows it escaped.
            var id = task.GetProperty("id").GetString()!;
            await Cluster.Eventually.ReturnsAsync(
                async () => JsonDocument.Parse((await RunAsync(silo, ["tasks", "show", id, "--json"])).StandardOutput).RootElement.GetProperty("state").GetString(),
                state => state == "assigned", TimeSpan.FromSeconds(30), "the task to be dispatched to edge-agent");
            await RunAsync(silo, ["tasks", "start", id, "--agent", "edge-agent"]);
            await RunAsync(silo, ["tasks", "fail", id, "--agent", "edge-agent", "--error", $"{Escape}[2Jboom"]);
            var show = await RunAsync(silo, ["tasks", "show", id]);
            var history = await RunAsync(silo, ["tasks", "history", id]);
            var json = await RunAsync(silo, ["tasks", "show", id, "--json"]);
            Assert.DoesNotContain(Escape, show.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("\\u001b[2Jboom", show.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(Escape, history.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("\\u001b", history.StandardOutput, StringComparison.Ordinal); // the reason column may wrap the rest

            Assert.Equal($"{Escape}[2Jboom", JsonDocument.Parse(json.StandardOutput).RootElement.GetProperty("error").GetString());

            await File.WriteAllTextAsync(input, "{not json");
            var invalid = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "create", "--name", "bad", "--type", type, "--input", "@" + input], silo.Environment);
            Assert.Equal(2, invalid.ExitCode); // refused before anything is sent
            Assert.StartsWith("noorg: --input: not valid JSON", invalid.StandardError, StringComparison.Ordinal);
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
