using System.CommandLine;
using System.Globalization;
using NoOrg.Cli.Bench;
using NoOrg.Grains.Errors;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg bench</c>: latency and throughput of the cluster's operations next to the storage and messaging floors.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var levels = new Option<int[]>("--concurrency")
        {
            Description = "Concurrent callers per level (repeatable or comma-separated)", AllowMultipleArgumentsPerToken = true,
            CustomParser = r => [.. r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(v => int.Parse(v, CultureInfo.InvariantCulture))],
            DefaultValueFactory = _ => [1, 16, 64],
        };
        var duration = new Option<double>("--duration") { Description = "Seconds measured per operation and level", DefaultValueFactory = _ => 10 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of warm-up (not measured) before each measurement", DefaultValueFactory = _ => 3 };
        var count = new Option<long>("--count") { Description = "Stop a level after this many samples (0: run for --duration)", DefaultValueFactory = _ => 0 };
        var scale = new Option<int>("--scale") { Description = "Register N agents and create N tasks, then read memory and time listing and statistics (0: skip)", DefaultValueFactory = _ => 1000 };
        var samples = new Option<int>("--query-samples") { Description = "Samples per listing/statistics call in the scale phase", DefaultValueFactory = _ => 20 };
        var operations = new Option<string[]>("--operation")
        {
            Description = $"Only these operations (repeatable): {string.Join(", ", BenchSuite.AllOperations)}", AllowMultipleArgumentsPerToken = true,
        };
        var profile = new Option<int>("--profile-writes")
        {
            Description = "PostgreSQL only: rows written and transactions committed per operation, from N samples each (0: skip)", DefaultValueFactory = _ => 0,
        };
        var unplaceable = new Option<int>("--unplaceable")
        {
            Description = "Create N pending tasks no agent can take before measuring (cancelled afterwards): what such a backlog costs", DefaultValueFactory = _ => 0,
        };
        var timeouts = new Option<bool>("--timeouts")
        {
            Description = "Give every task the bench creates a time-out and a deadline an hour away: what they cost",
        };
        var output = new Option<FileInfo?>("--out") { Description = "Write the full report as JSON to this file" };
        var command = new Command("bench", "Measure registration, creation, assignment, state sync and the task lifecycle against the storage and messaging floors")
        {
            levels, duration, warmup, count, scale, samples, operations, profile, unplaceable, timeouts, output,
        };
        command.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            var chosen = parse.GetValue(operations) is { Length: > 0 } o ? o : [.. BenchSuite.AllOperations];
            var plan = new BenchPlan(
                parse.GetValue(levels)!, TimeSpan.FromSeconds(parse.GetValue(warmup)), TimeSpan.FromSeconds(parse.GetValue(duration)),
                parse.GetValue(count), parse.GetValue(scale), parse.GetValue(samples), chosen, parse.GetValue(profile),
                parse.GetValue(unplaceable), parse.GetValue(timeouts));
            if (Problem(plan) is { } problem)
            {
                return CliContext.Fail(parse, problem, CliContext.BadConfiguration);
            }

            var verbose = parse.GetValue(CliContext.Verbose);
            await using var caller = await ClusterConnection.OpenAsync(settings, verbose, cancellationToken);
            await using var other = await ClusterConnection.OpenAsync(settings, verbose, cancellationToken);
            var suite = new BenchSuite(new BenchRun(caller.Client, other.Client, settings, plan));
            BenchReport report;
            try
            {
                report = parse.GetValue(CliContext.Json) || Console.IsOutputRedirected
                    ? await suite.RunAsync(new SilentProgress(), cancellationToken)
                    : await BenchView.RunWithProgressAsync(suite, cancellationToken);
            }
            catch (NoOrgException e)
            {
                return CliContext.Fail(parse, $"{e.Code}: {e.Message}", CliContext.Failed);
            }

            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, CliContext.ToJson(report), cancellationToken);
            }

            CliContext.Write(parse, report, BenchView.Render);
            return report.Operations.Any(op => op.Levels.Any(l => l.Count == 0)) ? CliContext.Failed : CliContext.Ok;
        }));
        return command;
    }

    internal static string? Problem(BenchPlan plan)
    {
        var unknown = plan.Operations.Except(BenchSuite.AllOperations, StringComparer.Ordinal).ToArray();
        return plan.Levels.Count == 0 || plan.Levels.Any(l => l is < 1 or > 1024) ? "--concurrency: each level must be 1 to 1024"
            : plan.Duration <= TimeSpan.Zero ? "--duration: must be more than 0 seconds"
            : plan.Warmup < TimeSpan.Zero ? "--warmup: must be 0 seconds or more"
            : plan.Count < 0 ? "--count: must be 0 or more"
            : plan.Scale < 0 ? "--scale: must be 0 or more"
            : plan.ProfileSamples < 0 ? "--profile-writes: must be 0 or more"
            : plan.Unplaceable is < 0 or > 1_000_000 ? "--unplaceable: must be 0 to 1000000"
            : plan.QuerySamples < 1 ? "--query-samples: must be 1 or more"
            : unknown.Length > 0 ? $"--operation: unknown {string.Join(", ", unknown)}; known: {string.Join(", ", BenchSuite.AllOperations)}"
            : null;
    }

    private sealed class SilentProgress : IBenchProgress
    {
        public Action<long>? Starting(string operation, int concurrency) => null;

        public void Finished(string operation, int concurrency, LevelResult result)
        {
        }

        public void Scaling(string what, double done)
        {
        }
    }
}
