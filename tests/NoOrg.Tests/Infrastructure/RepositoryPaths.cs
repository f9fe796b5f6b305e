namespace NoOrg.Tests.Infrastructure;

/// <summary>Locates files of the repository and the built programs the tests run as separate processes.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string File(string relative) => Path.Combine(Root, relative);

    /// <summary>A program built next to the tests (project references copy it here), e.g. <c>noorg.dll</c>.</summary>
    public static string Program(string assemblyFile) => Path.Combine(AppContext.BaseDirectory, assemblyFile);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "NoOrg.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NoOrg.sln not found above " + AppContext.BaseDirectory);
    }
}
