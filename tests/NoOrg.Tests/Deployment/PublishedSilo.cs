using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Deployment;

/// <summary>
/// The silo published by the Dockerfile's own <c>dotnet publish</c> command (output redirected to a temporary
/// directory) and started with the image's ENV, on free ports; shared by the image and manifest tests.
/// </summary>
public sealed class PublishedSilo : IAsyncLifetime
{
    private readonly string root = Directory.CreateTempSubdirectory("noorg-publish-").FullName;

    public DockerfileModel Dockerfile { get; } = DockerfileModel.Parse(System.IO.File.ReadAllText(RepositoryPaths.File("Dockerfile")));

    public ProcessRunner.Result Publish { get; private set; } = new(-1, "", "");

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var output = Path.Combine(root, "app");
        Publish = await ProcessRunner.RunCommandAsync("dotnet", PublishArguments(output), RepositoryPaths.Root, TimeSpan.FromMinutes(8));
        if (Publish.ExitCode != 0)
        {
            return;
        }

        var environment = DockerfileModel.Environment(Dockerfile.Final).ToDictionary(e => e.Key, string? (e) => e.Value);
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        environment["NOORG_STORAGE_DATA_DIR"] = data;
        environment.Remove("NOORG_HTTP_URLS");   // the image's port may be taken on this machine: SiloProcess picks one
        Silo = SiloProcess.Start(data, environment, Path.Combine(output, EntryAssembly()));
        await Silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>The build stage's <c>RUN dotnet publish ...</c>, with its <c>-o</c> pointed at <paramref name="output"/>.</summary>
    public IReadOnlyList<string> PublishArguments(string output)
    {
        var words = PublishCommand("src/Silo/").Skip(1).ToList();
        words[words.IndexOf("-o") + 1] = output;
        return [.. words, "-nodeReuse:false"];
    }

    /// <summary>The words of the build stage's <c>dotnet publish</c> of the project under <paramref name="projectDirectory"/>.</summary>
    public IReadOnlyList<string> PublishCommand(string projectDirectory)
    {
        var run = Dockerfile.Stages[0].All("RUN").Single(r => r.Contains("dotnet publish " + projectDirectory, StringComparison.Ordinal));
        return run[run.IndexOf("dotnet publish", StringComparison.Ordinal)..].Split(' ');
    }

    /// <summary>Where the build stage publishes the project under <paramref name="projectDirectory"/> (its <c>-o</c>).</summary>
    public string PublishOutput(string projectDirectory)
    {
        var words = PublishCommand(projectDirectory);
        return words[words.ToList().IndexOf("-o") + 1];
    }

    /// <summary>The DLL of <c>ENTRYPOINT ["dotnet", "X.dll"]</c>.</summary>
    public string EntryAssembly() =>
        System.Text.Json.JsonSerializer.Deserialize<string[]>(Dockerfile.Final.All("ENTRYPOINT").Single())![1];

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        Directory.Delete(root, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class PublishedSiloCollection : ICollectionFixture<PublishedSilo>
{
    public const string Name = "published silo";
}
