using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoOrg.Cli.Worker;
using NoOrg.Client;
using NoOrg.Client.Workers;
using NoOrg.Grains.Agents;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg worker</c>: runs a demo agent in this terminal until Ctrl+C.</summary>
internal static class WorkerCommand
{
    private const int WorkerConnectSeconds = 3600;

    public static Command Create()
    {
        var id = new Option<string>("--id") { Description = "Agent id (stable across restarts)", DefaultValueFactory = _ => $"demo-{Environment.MachineName.ToLowerInvariant()}" }.Ids();
        var name = new Option<string>("--name") { Description = "Agent name", DefaultValueFactory = _ => "Demo worker" };
        var type = new Option<string>("--type") { Description = "Agent type", DefaultValueFactory = _ => "demo" };
        var capabilities = new Option<string[]>("--capability") { Description = "A capability (repeatable); default: echo, uppercase, sleep, fail", AllowMultipleArgumentsPerToken = true };
        var max = new Option<int>("--max") { Description = "Maximum concurrent tasks", DefaultValueFactory = _ => 2 };
        var command = new Command("worker", "Run a demo agent that takes tasks of type echo, uppercase, sleep and fail") { id, name, type, capabilities, max };
        command.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            var caps = parse.GetValue(capabilities) is { Length: > 0 } given ? given : DemoTaskHandler.Capabilities;
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => (o.SingleLine, o.IncludeScopes) = (true, true)).SetMinimumLevel(parse.GetValue(CliContext.Verbose) ? LogLevel.Information : LogLevel.Warning);
            // A worker is a long-running process: started while no silo (or the database that lists them) answers, it
            // waits for one, an hour unless told otherwise, instead of exiting after an app's 30 s.
            if (NoOrg.Configuration.NoOrgConfiguration.Build()[ClusterConnection.ConnectPatienceKey] is null)
            {
                settings.Timeouts.ClientConnectSeconds = WorkerConnectSeconds;
            }

            builder.Services.AddNoOrgClient(settings);
            builder.Services.AddNoOrgWorker<DemoTaskHandler>(o =>
            {
                o.AgentId = parse.GetValue(id)!;
                o.Registration = new AgentRegistration(parse.GetValue(name)!, parse.GetValue(type)!, "noorg worker demo", caps, parse.GetValue(max), new Dictionary<string, string> { ["host"] = Environment.MachineName });
                o.HeartbeatInterval = TimeSpan.FromSeconds(Math.Max(1, settings.Agents.HeartbeatTimeoutSeconds / 3.0));
            });
            using var host = builder.Build();
            await host.StartAsync(cancellationToken);
            CliContext.Terminal.MarkupLineEscaped($"Agent [bold]{parse.GetValue(id)}[/] is taking tasks with capabilities {string.Join(", ", caps)}. Ctrl+C stops it.");
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            var watching = WatchHealthAsync(host.Services.GetRequiredService<HealthCheckService>(), stopping.Token);
            await host.WaitForShutdownAsync(cancellationToken);
            await stopping.CancelAsync();
            await watching;
            return CliContext.Ok;
        }));
        return command;
    }

    /// <summary>Prints the worker's health whenever it changes: a stalled slot or a refused agent id shows here.</summary>
    private static async Task WatchHealthAsync(HealthCheckService health, CancellationToken cancellationToken)
    {
        string? last = null;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            do
            {
                var report = await health.CheckHealthAsync(cancellationToken);
                var entry = report.Entries[WorkerServiceCollectionExtensions.HealthCheckName];
                var now = $"{entry.Status}: {entry.Description}";
                if (now != last)
                {
                    var color = entry.Status switch { HealthStatus.Healthy => "green", HealthStatus.Degraded => "yellow", _ => "red" };
                    CliContext.Terminal.MarkupLineEscaped($"[{color}]Worker health {entry.Status}[/]: {entry.Description}");
                    last = now;
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
