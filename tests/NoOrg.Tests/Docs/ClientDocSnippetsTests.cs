using System.Diagnostics;
using System.Text.RegularExpressions;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Docs;

/// <summary>The client docs compile: each doc's C# blocks, and nothing else, become a fresh app outside the repository that builds.</summary>
public sealed partial class ClientDocSnippetsTests
{
    [Theory]
    [InlineData("docs/client.md", 5)]
    [InlineData("docs/ai-agents.md", 1)]
    public async Task Every_snippet_of_the_doc_builds_as_a_new_app_referencing_the_client_library(string path, int expected)
    {
        var doc = await File.ReadAllTextAsync(RepositoryPaths.File(path));
        var snippets = Snippet().Matches(doc).Select(m => (File: m.Groups["file"].Value, Code: m.Groups["code"].Value)).ToArray();
        Assert.True(snippets.Length >= expected, $"expected the doc's snippets, found {snippets.Length}");

        var app = Directory.CreateTempSubdirectory("noorg-docapp-").FullName;
        try
        {
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
            Assert.True(process.ExitCode == 0, $"the doc's snippets do not build:\n{await output}{await errors}");
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    // A block starts with a comment naming its file: ```csharp\n// Program.cs\n...```
    [GeneratedRegex(@"```csharp\n// (?<file>[A-Za-z]+\.cs)\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
