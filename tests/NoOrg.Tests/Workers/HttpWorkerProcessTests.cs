using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NoOrg.Client;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Workers;

/// <summary>
/// The reference HTTP workers (clients/python, clients/typescript) run as child processes against a real silo
/// process, on tasks created with the .NET client. Heartbeats time out after 3 s so a killed worker is noticed fast.
/// </summary>
public sealed class HttpWorkerProcessTests(HttpWorkerProcessTests.Silo silo) : IClassFixture<HttpWorkerProcessTests.Silo>
{
    [ExecutablesFact("python3", "node")]
    public async Task A_task_created_by_the_dotnet_client_is_completed_by_the_python_worker_and_by_the_typescript_worker_and_both_stop_cleanly()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var python = HttpWorker.Python(silo, "py-" + run, "shout.py." + run);
        await using var node = HttpWorker.Node(silo, "ts-" + run, "shout.ts." + run);

        var forPython = await silo.Api.Tasks.CreateAsync(Spec("shout.py." + run, "{\"greeting\":\"hello\",\"from\":[\"python\"]}"));
        var forNode = await silo.Api.Tasks.CreateAsync(Spec("shout.ts." + run, "{\"greeting\":\"hello\",\"from\":[\"node\"]}"));

        var byPython = await CompletedAsync(forPython.Id, python, node);
        var byNode = await CompletedAsync(forNode.Id, python, node);
        Assert.Equal(python.AgentId, byPython.AssignedTo);
        Assert.Equal("{\"greeting\":\"HELLO\",\"from\":[\"PYTHON\"]}", byPython.ResultJson);
        Assert.Equal(node.AgentId, byNode.AssignedTo);
        Assert.Equal("{\"greeting\":\"HELLO\",\"from\":[\"NODE\"]}", byNode.ResultJson);
        foreach (var task in new[] { byPython, byNode })
        {
            var history = await silo.Api.Tasks.HistoryAsync(task.Id, 0, 100);
            Assert.Equal([TaskAction.Created, TaskAction.Assigned, TaskAction.Started, TaskAction.Completed],
                history.Items.Select(e => e.Action).Where(a => a != TaskAction.Unassignable));
        }

        // SIGTERM: each worker disconnects, the agent goes offline as the .NET worker's does, and the process exits 0.
        foreach (var worker in new[] { python, node })
        {
            Assert.Equal(0, await worker.TerminateAsync(TimeSpan.FromSeconds(20)));
            var agent = await silo.Api.Agents.GetAsync(worker.AgentId);
            Assert.Equal(AgentStatus.Offline, agent.Status);
            Assert.Equal("its HTTP worker stopped", agent.StatusReason);
        }
    }

    [ExecutablesFact("python3", "node")]
    public async Task A_worker_killed_mid_task_has_its_task_handed_back_when_its_heartbeat_times_out_and_completed_once_by_another()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var capability = "shout.kill." + run;
        await using var slow = HttpWorker.Python(silo, "py-slow-" + run, capability, delaySeconds: 120);
        var task = await silo.Api.Tasks.CreateAsync(Spec(capability, "{\"greeting\":\"again\"}"));
        await Eventually.ReturnsAsync(() => silo.Api.Tasks.GetAsync(task.Id), t => t.State == TaskState.Running && t.AssignedTo == slow.AgentId,
            TimeSpan.FromSeconds(30), $"the Python worker to start the task ({slow.Output})");

        await slow.KillAsync(); // SIGKILL: no hand back, no disconnect; only the silence tells
        await using var rescuer = HttpWorker.Node(silo, "ts-rescue-" + run, capability);

        var done = await CompletedAsync(task.Id, rescuer);
        Assert.Equal(rescuer.AgentId, done.AssignedTo);
        Assert.Equal("{\"greeting\":\"AGAIN\"}", done.ResultJson);
        Assert.Equal(2, done.Attempt);
        var history = (await silo.Api.Tasks.HistoryAsync(task.Id, 0, 100)).Items;
        Assert.Single(history, e => e.Action == TaskAction.Completed);
        Assert.Equal([slow.AgentId, rescuer.AgentId], history.Where(e => e.Action == TaskAction.Started).Select(e => e.ToAgent));
        Assert.Contains(history, e => e.Action == TaskAction.AgentLost);

        var lost = await silo.Api.Agents.GetAsync(slow.AgentId);
        Assert.Equal(AgentStatus.Offline, lost.Status);
        Assert.Contains("no heartbeat", lost.StatusReason ?? "", StringComparison.Ordinal);
    }

    [ExecutablesFact("python3", "node")]
    public async Task A_task_cancelled_while_a_worker_runs_it_cancels_the_handler_reports_nothing_and_frees_the_slot()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        await using var python = HttpWorker.Python(silo, "py-cancel-" + run, "shout.cancel.py." + run);
        await using var node = HttpWorker.Node(silo, "ts-cancel-" + run, "shout.cancel.ts." + run);
        foreach (var (worker, capability) in new[] { (python, "shout.cancel.py." + run), (node, "shout.cancel.ts." + run) })
        {
            var slow = await silo.Api.Tasks.CreateAsync(Spec(capability, "{\"greeting\":\"slow\",\"delaySeconds\":120}"));
            await Eventually.ReturnsAsync(() => silo.Api.Tasks.GetAsync(slow.Id), t => t.State == TaskState.Running,
                TimeSpan.FromSeconds(30), $"the worker to start the task ({worker.Output})");
            await silo.Api.Tasks.CancelAsync(slow.Id, "not needed");

            // The next heartbeat is refused (the attempt is over): the handler is cancelled and nothing is reported.
            await Eventually.ReturnsAsync(() => Task.FromResult(worker.Output), o => o.Contains($"task {slow.Id} attempt 1 not reported", StringComparison.Ordinal),
                TimeSpan.FromSeconds(15), "the handler to be cancelled");
            var next = await silo.Api.Tasks.CreateAsync(Spec(capability, "{\"greeting\":\"next\"}"));
            Assert.Equal("{\"greeting\":\"NEXT\"}", (await CompletedAsync(next.Id, worker)).ResultJson); // its one slot is free again
            var cancelled = await silo.Api.Tasks.GetAsync(slow.Id);
            Assert.Equal(TaskState.Cancelled, cancelled.State);
            Assert.DoesNotContain((await silo.Api.Tasks.HistoryAsync(slow.Id, 0, 100)).Items, e => e.Action is TaskAction.Completed or TaskAction.Failed);
        }
    }

    private static TaskSpec Spec(string capability, string input) =>
        new("shout", capability, InputJson: input, RequiredCapabilities: [capability], MaxAttempts: 3, RetryBackoff: TimeSpan.FromMilliseconds(100));

    private async Task<TaskSnapshot> CompletedAsync(string taskId, params HttpWorker[] workers) =>
        await Eventually.ReturnsAsync(() => silo.Api.Tasks.GetAsync(taskId), t => t.State == TaskState.Completed, TimeSpan.FromSeconds(40),
            $"task {taskId} to complete; workers said:\n{string.Join("\n", workers.Select(w => w.Output))}");

    /// <summary>One silo process with short heartbeats, and a .NET client connected to it.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        private readonly string data = Directory.CreateTempSubdirectory("noorg-httpworker-").FullName;
        private SiloProcess? process;
        private IHost? client;

        public SiloProcess Process => process!;

        public INoOrgClient Api => client!.Services.GetRequiredService<INoOrgClient>();

        public async Task InitializeAsync()
        {
            process = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_DASHBOARD_ENABLED"] = "false",
                ["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = "3",
                ["NOORG_AGENT_HEALTH_CHECK_INTERVAL_SECONDS"] = "1",
                ["NOORG_AGENT_HEALTH_GRACE_PERIOD_SECONDS"] = "1",
            });
            await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddNoOrgClient(new ConfigurationBuilder().AddInMemoryCollection(process.Environment).Build());
            client = builder.Build();
            await client.StartAsync();
        }

        public async Task DisposeAsync()
        {
            if (client is not null)
            {
                await client.StopAsync();
                client.Dispose();
            }

            if (process is not null)
            {
                await process.DisposeAsync();
            }

            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>An example agent of examples/ as a child process.</summary>
    private sealed class HttpWorker : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();

        private HttpWorker(string program, string script, Silo silo, string agentId, string capability, int delaySeconds)
        {
            AgentId = agentId;
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryPaths.Root };
            start.ArgumentList.Add(RepositoryPaths.File(script));
            start.Environment["NOORG_URL"] = silo.Process.Http.ToString().TrimEnd('/');
            start.Environment["NOORG_AGENT_ID"] = agentId;
            start.Environment["NOORG_CAPABILITY"] = capability;
            start.Environment["EXAMPLE_DELAY_SECONDS"] = delaySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["PYTHONUNBUFFERED"] = "1";
            process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string AgentId { get; }

        public string Output
        {
            get
            {
                lock (output)
                {
                    return $"[{AgentId}]\n{output}";
                }
            }
        }

        public static HttpWorker Python(Silo silo, string agentId, string capability, int delaySeconds = 0) =>
            new("python3", "examples/python/uppercase_agent.py", silo, agentId, capability, delaySeconds);

        public static HttpWorker Node(Silo silo, string agentId, string capability, int delaySeconds = 0) =>
            new("node", "examples/typescript/uppercase-agent.mjs", silo, agentId, capability, delaySeconds);

        /// <summary>SIGTERM, as a service manager stops it; the exit code.</summary>
        public async Task<int> TerminateAsync(TimeSpan timeout)
        {
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(timeout);
            await process.WaitForExitAsync(cts.Token);
            return process.ExitCode;
        }

        public async Task KillAsync()
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                await KillAsync();
            }

            process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
