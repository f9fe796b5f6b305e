namespace NoOrg.Tests.Infrastructure;

/// <summary>A fact that runs programs found on PATH (<c>python3</c>, <c>node</c>); skipped, naming the missing ones, without them.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ExecutablesFactAttribute : FactAttribute
{
    public ExecutablesFactAttribute(params string[] programs)
    {
        var missing = programs.Where(p => Find(p) is null).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"{string.Join(" and ", missing)} not found on PATH; the reference workers cannot run here";
        }
    }

    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
