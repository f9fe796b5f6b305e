using System.Diagnostics;
using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Silo;

/// <summary>The two-terminal flow from the README, with real processes: a silo, <c>noorg worker</c>, and the CLI.</summary>
public sealed class WorkerFlowProcessTests
{
    [Fact]
    public async Task A_task_created_with_the_cli_is_completed_by_noorg_worker_and_its_history_shows_every_step()
    {
        var data = Directory.CreateTempSubdirectory("noorg-flow-").FullName;
        Process? worker = null;
        try
        {
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            worker = WorkerProcess.Start(silo.Environment, "--id", "flow-worker");

            var created = await ProcessRunner.RunAsync("noorg.dll",
                ["tasks", "create", "--name", "shout", "--type", "uppercase", "--input", "{\"greeting\":\"hello\"}", "--wait", "--json"],
                silo.Environment, timeout: TimeSpan.FromMinutes(2));
            Assert.True(created.ExitCode == 0, $"tasks create failed: {created.StandardError}{created.StandardOutput}");
            var task = JsonDocument.Parse(created.StandardOutput).RootElement;
            Assert.Equal("completed", task.GetProperty("state").GetString());
            Assert.Contains("HELLO", task.GetProperty("resultJson").GetString(), StringComparison.Ordinal);

            var history = await ProcessRunner.RunAsync("noorg.dll", ["tasks", "history", task.GetProperty("id").GetString()!, "--json"], silo.Environment);
            Assert.Equal(0, history.ExitCode);
            var actions = JsonDocument.Parse(history.StandardOutput).RootElement.GetProperty("items").EnumerateArray()
                .Select(e => e.GetProperty("action").GetString()!).Where(a => a != "unassignable").ToArray();
            Assert.Equal(["created", "assigned", "started", "completed"], actions);
        }
        finally
        {
            if (worker is { HasExited: false })
            {
                worker.Kill(entireProcessTree: true);
                await worker.WaitForExitAsync();
            }

            worker?.Dispose();
            Directory.Delete(data, recursive: true);
        }
    }
}
