using System.Diagnostics;

namespace NoOrg.Tests.Infrastructure;

/// <summary>Runs a built .NET program as its own process with a controlled environment.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    public static Task<Result> RunAsync(
        string assemblyFile, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment,
        string? workingDirectory = null, TimeSpan? timeout = null, string? standardInput = null) =>
        RunCommandAsync("dotnet", [RepositoryPaths.Program(assemblyFile), .. arguments], workingDirectory, timeout, environment, standardInput);

    /// <summary>Runs any command (<c>dotnet publish</c>, <c>kubectl</c>, ...) with the NOORG_* variables of this process removed.</summary>
    public static async Task<Result> RunCommandAsync(
        string command, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null, string? standardInput = null)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Start from a clean NOORG_* slate so the developer's own settings never leak into a test.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NOORG_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {string.Join(' ', start.ArgumentList)} did not exit in time. Output so far: {await stdout}{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
