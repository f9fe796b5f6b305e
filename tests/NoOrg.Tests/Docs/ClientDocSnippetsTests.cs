using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Docs;

/// <summary>
/// The client docs work as written: each doc's C# blocks, and nothing else, become a fresh app outside the repository
/// that builds; the client guide's app also runs against a real silo.
/// </summary>
public sealed partial class ClientDocSnippetsTests
{
    [Theory]
    [InlineData("docs/ai-agents.md", 1)]
    public async Task Every_snippet_of_the_doc_builds_as_a_new_app_referencing_the_client_library(string path, int expected)
    {
        var app = await BuildAsync(path, expected);
        Directory.Delete(app, recursive: true);
    }

    [Fact]
    public async Task The_client_guide_app_runs_fifty_tasks_through_its_worker_and_leaves_its_agent_offline_with_no_issue()
    {
        var app = await BuildAsync("docs/client.md", 5);
        var data = Directory.CreateTempSubdirectory("noorg-docsilo-").FullName;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var words = Enumerable.Range(1, 50).Select(i => $"word{i}").ToArray();

            var run = await ProcessRunner.RunCommandAsync("dotnet", [Path.Combine(app, "bin", "Debug", "net10.0", "DocApp.dll"), .. words],
                workingDirectory: app, timeout: TimeSpan.FromMinutes(3), environment: silo.Environment);

            Assert.True(run.ExitCode == 0, $"the doc's app failed ({run.ExitCode}):\n{run.StandardOutput}{run.StandardError}");
            string[] outcomes = ["Completed: ", "Failed: ", "Cancelled: "]; // the host's own log lines go to standard output too
            var results = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => outcomes.Any(o => line.StartsWith(o, StringComparison.Ordinal)));
            Assert.Equal(words.Select(w => $$"""Completed: {"text":"{{w.ToUpperInvariant()}}"}"""), results);

            // Offline at once: read right after the app exited, no waiting.
            var agent = JsonDocument.Parse((await Cli(silo, "agents", "show", "uppercase-1", "--json")).StandardOutput).RootElement;
            Assert.Equal("offline", agent.GetProperty("status").GetString());
            Assert.Equal(0, agent.GetProperty("activeTaskIds").GetArrayLength());

            // Its monitor goes quiet (nothing is checked while it is away), and it raised no issue.
            var health = await Cluster.Eventually.ReturnsAsync(
                async () => JsonDocument.Parse((await Cli(silo, "health", "agent", "uppercase-1", "--json")).StandardOutput).RootElement,
                h => h.TryGetProperty("quietSince", out var quiet) && quiet.ValueKind == JsonValueKind.String,
                TimeSpan.FromSeconds(30), "the agent's monitor to go quiet");
            Assert.Equal("healthy", health.GetProperty("status").GetString());
            var issues = JsonDocument.Parse((await Cli(silo, "health", "issues", "--all", "--json")).StandardOutput).RootElement;
            Assert.Equal(0, issues.GetProperty("total").GetInt32());
        }
        finally
        {
            Directory.Delete(app, recursive: true);
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<ProcessRunner.Result> Cli(SiloProcess silo, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", arguments, silo.Environment);
        Assert.True(result.ExitCode == 0, $"noorg {string.Join(' ', arguments)} exited {result.ExitCode}: {result.StandardError}");
        return result;
    }

    /// <summary>Writes the doc's C# blocks, each to the file its first line names, into a new app; builds it; returns its folder.</summary>
    private static async Task<string> BuildAsync(string path, int expected)
    {
        var doc = await File.ReadAllTextAsync(RepositoryPaths.File(path));
        var snippets = Snippet().Matches(doc).Select(m => (File: m.Groups["file"].Value, Code: m.Groups["code"].Value)).ToArray();
        Assert.True(snippets.Length >= expected, $"expected the doc's snippets, found {snippets.Length}");

        var app = Directory.CreateTempSubdirectory("noorg-docapp-").FullName;
        await File.WriteAllTextAsync(Path.Combine(app, "DocApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{RepositoryPaths.File("src/Client/NoOrg.Client.csproj")}" />
              </ItemGroup>
            </Project>
            """);
        foreach (var (file, code) in snippets)
        {
            await File.WriteAllTextAsync(Path.Combine(app, file), code);
        }

        var build = new ProcessStartInfo("dotnet", ["build", "-nologo", "-v", "q", app]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(build)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            Directory.Delete(app, recursive: true);
            Assert.Fail($"the doc's snippets do not build:\n{await output}{await errors}");
        }

        return app;
    }

    // A block starts with a comment naming its file: ```csharp\n// Program.cs\n...```
    [GeneratedRegex(@"```csharp\n// (?<file>[A-Za-z]+\.cs)\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
