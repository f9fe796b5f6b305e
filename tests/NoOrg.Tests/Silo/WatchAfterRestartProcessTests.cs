using System.Diagnostics;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Silo;

/// <summary>
/// Following changes survives a silo restart: whatever the watchers stored before (stream subscriptions, producers)
/// is read back by the restarted silo, and the CLI's three watch commands see new events at once.
/// </summary>
public sealed class WatchAfterRestartProcessTests
{
    private static readonly Dictionary<string, string?> Quiet = new() { ["NOORG_DASHBOARD_ENABLED"] = "false" };

    [Fact]
    public async Task Tasks_agents_and_sagas_can_be_watched_after_a_silo_restart_and_the_log_has_no_stream_storage_errors()
    {
        var data = Directory.CreateTempSubdirectory("noorg-rewatch-").FullName;
        try
        {
            await using (var first = SiloProcess.Start(data, Quiet))
            {
                await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
                await WatchAllThreeAsync(first, "before");
                // Killed, not stopped: a graceful stop unregisters the stream producers, so nothing would be read back.
                await first.KillAsync();
            }

            await using var second = SiloProcess.Start(data, Quiet);
            await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            await WatchAllThreeAsync(second, "after");

            // What was stored before the restart was read back: no storage errors and no failing stream registrations.
            // (The watchers killed before the restart are still subscribed; a delivery to each fails once and ends it.)
            var log = second.Output;
            Assert.DoesNotContain("Error from storage provider", log, StringComparison.Ordinal);
            Assert.DoesNotContain("RegisterAsStreamProducer", log, StringComparison.Ordinal);
            var storageErrors = log.Split('\n').Where(l => l.StartsWith("fail:", StringComparison.Ordinal) &&
                (l.Contains("Storage", StringComparison.Ordinal) || l.Contains("Orleans.Streams", StringComparison.Ordinal))).ToArray();
            Assert.True(storageErrors.Length == 0, $"the restarted silo logged stream or storage errors:\n{Problems(log)}");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task WatchAllThreeAsync(SiloProcess silo, string round)
    {
        await WatchUntilSeenAsync(silo, "tasks", async n =>
        {
            var created = await Cli(silo, "tasks", "create", "--name", $"rewatch-{round}-{n}", "--type", $"nobody-{round}", "--json");
            return System.Text.Json.JsonDocument.Parse(created).RootElement.GetProperty("id").GetString()!;
        });
        await WatchUntilSeenAsync(silo, "agents", async n =>
        {
            var id = $"rewatch-{round}-{n}";
            await Cli(silo, "agents", "register", id, "--name", id, "--type", "watch", "--capability", "watch");
            return id;
        });
        await WatchUntilSeenAsync(silo, "sagas", async n =>
        {
            var id = $"rewatch-{round}-{n}";
            await Cli(silo, "sagas", "start", "order", "--id", id, "--input", "{}");
            return id;
        });
    }

    /// <summary>
    /// Runs <c>noorg AREA watch --json</c> and makes a change until the watcher shows it: a watcher says nothing while
    /// it subscribes, so the first change may come before it listens.
    /// </summary>
    private static async Task WatchUntilSeenAsync(SiloProcess silo, string area, Func<int, Task<string>> change)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(RepositoryPaths.Program("noorg.dll"));
        foreach (var argument in new[] { area, "watch", "--json" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NOORG_", StringComparison.Ordinal)).ToArray())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in silo.Environment)
        {
            start.Environment[key] = value;
        }

        var output = new System.Text.StringBuilder();
        using var watcher = Process.Start(start)!;
        watcher.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        watcher.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        watcher.BeginOutputReadLine();
        watcher.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            for (var n = 0; clock.Elapsed < TimeSpan.FromSeconds(90); n++)
            {
                Assert.False(watcher.HasExited, $"noorg {area} watch exited ({(watcher.HasExited ? watcher.ExitCode : 0)}): {Seen()}\nsilo log:\n{Problems(silo.Output)}");
                var marker = await change(n);
                var wait = Stopwatch.StartNew();
                while (wait.Elapsed < TimeSpan.FromSeconds(3))
                {
                    if (Seen().Contains(marker, StringComparison.Ordinal))
                    {
                        return;
                    }

                    await Task.Delay(100);
                }
            }

            throw new Xunit.Sdk.XunitException($"noorg {area} watch showed no change within 90 s: {Seen()}\nsilo log:\n{Problems(silo.Output)}");
        }
        finally
        {
            if (!watcher.HasExited)
            {
                watcher.Kill(entireProcessTree: true);
                await watcher.WaitForExitAsync();
            }
        }

        string Seen()
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>The silo log's warnings and errors, each with its first lines of detail, without the traffic lines.</summary>
    private static string Problems(string log)
    {
        var problems = new List<string>();
        var detail = 0;
        foreach (var line in log.Split('\n'))
        {
            if (line.StartsWith("warn:", StringComparison.Ordinal) || line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal))
            {
                problems.Add(line);
                detail = 6;
            }
            else if (detail-- > 0 && line.StartsWith(' '))
            {
                problems.Add(line);
            }
        }

        return string.Join('\n', problems.Take(200));
    }

    private static async Task<string> Cli(SiloProcess silo, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", arguments, silo.Environment, timeout: TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"noorg {string.Join(' ', arguments)} failed: {result.StandardError}{result.StandardOutput}");
        return result.StandardOutput;
    }
}
