using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Deployment;

/// <summary>
/// NoOrg as a user gets it: the solution packed (without rebuilding) into a folder feed, and an app outside the
/// repository (PackageConsumer) that references the packages from there only, restored once. About 2-3 minutes.
/// </summary>
public sealed class PackageTests : IAsyncLifetime
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);
    private readonly string root = Directory.CreateTempSubdirectory("noorg-packages-").FullName;
    private readonly string version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
    private readonly string configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private string Feed => Path.Combine(root, "feed");

    private string Consumer => Path.Combine(root, "consumer");

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_fresh_app_runs_a_worker_and_a_task_and_its_own_test_from_the_packages_alone()
    {
        var pack = await DotnetAsync(RepositoryPaths.Root, "pack", "NoOrg.sln", "--no-build", "-c", configuration, "-o", Feed, $"-p:PackageVersion={version}");
        var packages = Directory.GetFiles(Feed, "*.nupkg").Select(Path.GetFileName).ToArray();
        foreach (var id in new[] { "NoOrg.Client", "NoOrg.Grains.Interfaces", "NoOrg.Testing", "NoOrg.Cli" })
        {
            Assert.True(packages.Contains($"{id}.{version}.nupkg"), $"dotnet pack made no {id}: {string.Join(", ", packages)}\n{pack}");
        }

        CopyDirectory(RepositoryPaths.File("tests/NoOrg.Tests/Deployment/PackageConsumer"), Consumer);
        await File.WriteAllTextAsync(Path.Combine(Consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="noorg-packed" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        var versionProperty = $"-p:NoOrgVersion={version}";
        await DotnetAsync(Consumer, "restore", "App.Tests", versionProperty);
        await DotnetAsync(Consumer, "tool", "install", "NoOrg.Cli", "--version", version, "--tool-path", Path.Combine(root, "tools"), "--add-source", Feed);

        var data = Directory.CreateDirectory(Path.Combine(root, "silo")).FullName;
        await using var silo = SiloProcess.Start(data);
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));

        var app = await ProcessRunner.RunCommandAsync("dotnet", ["run", "--project", "App", "--no-restore", versionProperty], Consumer, StepTimeout, silo.Environment);
        Assert.True(app.ExitCode == 0, $"the app failed:\n{app.StandardOutput}{app.StandardError}");
        var line = app.StandardOutput.Split('\n').Single(l => l.StartsWith("task ", StringComparison.Ordinal));
        Assert.Contains("Completed", line, StringComparison.Ordinal);
        Assert.Contains("\"HELLO FROM A PACKAGE\"", line, StringComparison.Ordinal);

        var taskId = line.Split(' ')[1];
        var tool = await ProcessRunner.RunCommandAsync(Path.Combine(root, "tools", "noorg"), ["tasks", "show", taskId, "--json"], Consumer, StepTimeout, silo.Environment);
        Assert.True(tool.ExitCode == 0, $"the installed noorg tool failed:\n{tool.StandardOutput}{tool.StandardError}");
        Assert.Contains("HELLO FROM A PACKAGE", tool.StandardOutput, StringComparison.Ordinal);

        var test = await DotnetAsync(Consumer, "test", "App.Tests", "--no-restore", versionProperty);
        Assert.Contains("Passed!", test, StringComparison.Ordinal);
    }

    private static async Task<string> DotnetAsync(string directory, params string[] arguments)
    {
        // MSBuild's nodes would outlive the test; `dotnet tool` takes no MSBuild switches.
        string[] build = arguments[0] == "tool" ? [] : ["-nodeReuse:false"];
        var result = await ProcessRunner.RunCommandAsync("dotnet", [.. arguments, .. build], directory, StepTimeout);
        var output = result.StandardOutput + result.StandardError;
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>The temporary directory, and this run's packages in the NuGet cache (a fresh version every run).</summary>
    public Task DisposeAsync()
    {
        Directory.Delete(root, recursive: true);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var package in Directory.Exists(cache) ? Directory.GetDirectories(cache, "noorg.*") : [])
        {
            var cached = Path.Combine(package, version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }

        return Task.CompletedTask;
    }
}
