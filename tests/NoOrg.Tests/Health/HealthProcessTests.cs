using System.Diagnostics;
using System.Text.Json;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Health;

/// <summary>Real processes: a silo, two <c>noorg worker</c>s (one killed mid-task), and the CLI reading the health report.</summary>
public sealed class HealthProcessTests
{
    [Fact]
    public async Task A_killed_worker_is_reported_unhealthy_and_its_task_completes_on_another_worker()
    {
        var data = Directory.CreateTempSubdirectory("noorg-health-").FullName;
        Process? doomed = null;
        Process? survivor = null;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_DASHBOARD_ENABLED"] = "false",
                ["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = "3",
                ["NOORG_AGENT_HEALTH_CHECK_INTERVAL_SECONDS"] = "1",
                ["NOORG_AGENT_HEALTH_GRACE_PERIOD_SECONDS"] = "1",
            });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            var capability = $"nap-{Guid.NewGuid():N}"[..12];
            doomed = WorkerProcess.Start(silo.Environment, "--id", "doomed-worker", "--capability", capability);

            var created = await Cli(silo, "tasks", "create", "--name", "nap", "--type", "sleep", "--input", "{\"ms\":40000}", "--capability", capability, "--json");
            var taskId = created.GetProperty("id").GetString()!;
            await Eventually.ReturnsAsync(() => Cli(silo, "tasks", "show", taskId, "--json"),
                t => t.GetProperty("state").GetString() is "assigned" or "running" && t.GetProperty("assignedTo").GetString() == "doomed-worker",
                TimeSpan.FromSeconds(90), "the first worker to hold the task");

            survivor = WorkerProcess.Start(silo.Environment, "--id", "survivor-worker", "--capability", capability);
            doomed.Kill(entireProcessTree: true);
            await doomed.WaitForExitAsync();

            var report = await Eventually.ReturnsAsync(() => Cli(silo, "health", "report", "--json"),
                r => r.GetProperty("unhealthy").EnumerateArray().Any(a => a.GetProperty("agentId").GetString() == "doomed-worker"),
                TimeSpan.FromSeconds(60), "the report to show the killed worker unhealthy");
            var row = report.GetProperty("unhealthy").EnumerateArray().Single(a => a.GetProperty("agentId").GetString() == "doomed-worker");
            Assert.Contains(row.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("heartbeat: no heartbeat for ", StringComparison.Ordinal));
            Assert.Contains(report.GetProperty("openIssues").EnumerateArray(), i => i.GetProperty("agentId").GetString() == "doomed-worker");

            var done = await Eventually.ReturnsAsync(() => Cli(silo, "tasks", "show", taskId, "--json"),
                t => t.GetProperty("state").GetString() == "completed", TimeSpan.FromSeconds(180), "the task to complete on the other worker");
            Assert.Equal("survivor-worker", done.GetProperty("assignedTo").GetString());
            var history = await Cli(silo, "tasks", "history", taskId, "--json");
            var lost = history.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("action").GetString() == "agentLost");
            Assert.Contains("agent unhealthy: heartbeat: no heartbeat for ", lost.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (var worker in new[] { doomed, survivor })
            {
                if (worker is { HasExited: false })
                {
                    worker.Kill(entireProcessTree: true);
                    await worker.WaitForExitAsync();
                }

                worker?.Dispose();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<JsonElement> Cli(SiloProcess silo, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", arguments, silo.Environment, timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"noorg {string.Join(' ', arguments)} failed: {result.StandardError}{result.StandardOutput}");
        return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }
}
