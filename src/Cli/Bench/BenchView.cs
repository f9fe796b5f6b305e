using System.Globalization;
using Spectre.Console;

namespace NoOrg.Cli.Bench;

/// <summary>The terminal side of <c>noorg bench</c>: a progress display while it runs, tables at the end.</summary>
internal static class BenchView
{
    public static Task<BenchReport> RunWithProgressAsync(BenchSuite suite, CancellationToken cancellationToken) =>
        CliContext.Terminal.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(context => suite.RunAsync(new Display(context), cancellationToken));

    public static void Render(BenchReport report)
    {
        var terminal = CliContext.Terminal;
        var m = report.Machine;
        terminal.MarkupLineEscaped(
            $"[bold]noorg bench[/] {report.Version} on {m.Cores} cores, {m.MemoryBytes / (1024 * 1024)} MiB, {m.Os}; {m.Database} ({m.StorageProvider}), {m.Silos} silo(s); load {m.LoadAverageAtStart} → {m.LoadAverageAtEnd}");
        var table = new Table().AddColumns("operation", "callers", "ops/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
            "ops/s ÷ insert", "p99 ÷ insert", "ops/s ÷ ping", "p99 ÷ ping");
        foreach (var operation in report.Operations)
        {
            foreach (var level in operation.Levels)
            {
                var ratio = report.Ratios.FirstOrDefault(r => r.Operation == operation.Name && r.Concurrency == level.Concurrency);
                table.AddRow(
                    operation.IsFloor ? $"[grey]{operation.Name} (floor)[/]" : operation.Name,
                    Number(level.Concurrency), Number(level.Throughput), Number(level.Latency.MedianMs), Number(level.Latency.P95Ms),
                    Number(level.Latency.P99Ms), Number(level.Latency.MaxMs), level.Errors == 0 ? "0" : $"[red]{level.Errors}[/]",
                    Number(ratio?.ThroughputVsInsert), Number(ratio?.P99VsInsert), Number(ratio?.ThroughputVsPing), Number(ratio?.P99VsPing));
            }
        }

        terminal.Write(table);
        foreach (var ratio in report.Ratios.Where(r => r.ThroughputVsCreation is not null))
        {
            terminal.MarkupLineEscaped($"{ratio.Operation} at {ratio.Concurrency} callers: {Number(ratio.ThroughputVsCreation)} × the throughput of grain-call creation (goal ≥ 0.7)");
        }

        foreach (var ratio in report.Ratios.Where(r => r.ThroughputVsLifecycle is not null))
        {
            terminal.MarkupLineEscaped($"{ratio.Operation} at {ratio.Concurrency} callers: {Number(ratio.ThroughputVsLifecycle)} × the throughput of the SDK worker's lifecycle (goal ≥ 0.5)");
        }
        foreach (var failing in report.Operations.SelectMany(o => o.Levels.Where(l => l.FirstError is not null).Select(l => (o.Name, l))))
        {
            terminal.MarkupLineEscaped($"[red]{failing.Name} at {failing.l.Concurrency}: {failing.l.Errors} error(s), first: {failing.l.FirstError}[/]");
        }

        if (report.Writes.Count > 0)
        {
            var writes = new Table().AddColumns("operation", "rows written / sample", "transactions / sample (reads included)", "samples", "where (per sample)");
            foreach (var w in report.Writes)
            {
                var where = string.Join(", ", w.Breakdown.Select(s => $"{s.Source} {Number(s.PerSample)}"));
                writes.AddRow(TerminalText.Markup(w.Operation), Number(w.RowsWrittenPerSample), Number(w.CommitsPerSample), Number(w.Samples), TerminalText.Markup(where));
            }

            terminal.Write(writes);
        }

        if (report.Scale is { } scale)
        {
            terminal.MarkupLineEscaped(
                $"[bold]Scale[/]: {scale.N} agents registered in {scale.AgentsSeconds} s, {scale.N} tasks created in {scale.TasksSeconds} s, {scale.Errors} error(s)");
            var memory = new Table().AddColumns("silo", "when", "resident MiB", "managed heap MiB", "activations", "Orleans memory MiB");
            foreach (var (when, readings) in new[] { ("before", scale.MemoryBefore), ("after", scale.MemoryAfter) })
            {
                foreach (var r in readings)
                {
                    memory.AddRow(TerminalText.Markup(r.Silo), when, Mib(r.ResidentBytes), Mib(r.ManagedHeapBytes), Number(r.Activations), Mib(r.OrleansMemoryUsageBytes));
                }
            }

            terminal.Write(memory);
            var queries = new Table().AddColumns("query", "p50 ms", "p95 ms", "p99 ms", "max ms", "samples");
            foreach (var q in scale.Queries)
            {
                queries.AddRow(q.Name, Number(q.Latency.MedianMs), Number(q.Latency.P95Ms), Number(q.Latency.P99Ms), Number(q.Latency.MaxMs), Number(q.Latency.Count));
            }

            terminal.Write(queries);
        }
    }

    private static string Number(double? value) => value switch
    {
        null => "-",
        >= 100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        _ when value.Value % 1 == 0 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        >= 1 => value.Value.ToString("0.0#", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0.0###", CultureInfo.InvariantCulture),
    };

    private static string Mib(long? bytes) => bytes is { } b ? Number(b / (1024.0 * 1024.0)) : "-";

    private sealed class Display(ProgressContext context) : IBenchProgress
    {
        private readonly Dictionary<string, ProgressTask> scaling = [];
        private ProgressTask? current;

        public Action<long>? Starting(string operation, int concurrency)
        {
            var task = context.AddTask($"{operation} × {concurrency}", maxValue: 1);
            task.IsIndeterminate = true;
            current = task;
            return samples =>
            {
                if (samples % 50 == 0)
                {
                    task.Description = $"{operation} × {concurrency}: {samples} samples";
                }
            };
        }

        public void Finished(string operation, int concurrency, LevelResult result)
        {
            if (current is { } task)
            {
                task.Description = $"{operation} × {concurrency}: {result.Throughput} ops/s, p99 {result.Latency.P99Ms} ms";
                task.IsIndeterminate = false;
                task.Value = 1;
                task.StopTask();
            }
        }

        public void Scaling(string what, double done)
        {
            lock (scaling)
            {
                if (!scaling.TryGetValue(what, out var task))
                {
                    task = scaling[what] = context.AddTask($"scale: {what}", maxValue: 1);
                    task.IsIndeterminate = true;
                }

                task.Description = $"scale: {done} {what}";
            }
        }
    }
}
