using System.Diagnostics;

namespace NoOrg.Tests.Infrastructure;

/// <summary>The real silo host (<c>NoOrg.Silo.dll</c>) running as a child process, on ports of its own.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly System.Text.StringBuilder output = new();

    private SiloProcess(Process process, IReadOnlyDictionary<string, string?> environment, Uri http)
    {
        this.process = process;
        Environment = environment;
        Http = http;
    }

    public Uri Http { get; }

    /// <summary>The NOORG_* settings the silo runs with; give the same to a client to reach it.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>Starts the silo built next to the tests, or the one at <paramref name="program"/> (a published <c>NoOrg.Silo.dll</c>).</summary>
    public static SiloProcess Start(string dataDirectory, IReadOnlyDictionary<string, string?>? extra = null, string? program = null)
    {
        var http = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var environment = new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_DATA_DIR"] = dataDirectory,
            ["NOORG_HTTP_URLS"] = http.ToString().TrimEnd('/'),
            ["NOORG_CLUSTER_SILO_PORT"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["NOORG_CLUSTER_GATEWAY_PORT"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        start.ArgumentList.Add(program ?? RepositoryPaths.Program("NoOrg.Silo.dll"));
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NOORG_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("the silo did not start");
        var silo = new SiloProcess(process, environment, http);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    /// <summary>Polls <c>/health/ready</c> until it answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Http, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the silo exited with code {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the silo was not ready within {timeout.TotalSeconds}s:\n{Output}");
    }

    /// <summary>Asks the silo to stop as a service manager would (SIGTERM) and waits for it to exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    /// <summary>Waits for the process to end by itself (a start-up that refuses to run) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        process.WaitForExit(); // the redirected output is complete only after this overload returns
        return process.ExitCode;
    }

    /// <summary>Kills the process outright (SIGKILL), as a crash or an OOM kill would.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
