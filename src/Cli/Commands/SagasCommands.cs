using System.CommandLine;
using System.Globalization;
using NoOrg.Client.Sagas;
using NoOrg.Grains;
using NoOrg.Grains.Sagas;
using Orleans.Streams;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg sagas ...</c>: start, follow and operate sagas.</summary>
internal static class SagasCommands
{
    private static readonly Argument<string> Id = new Argument<string>("id") { Description = "Saga id" }.Ids();
    private static readonly Option<string> Reason = new("--reason") { Description = "Why (recorded in the log)", DefaultValueFactory = _ => "by operator" };

    public static Command Create() => new("sagas", "Start, follow and operate sagas")
    {
        Start(), List(), Show(), Stats(), Watch(), Cancel(), Retry(), Definitions(),
    };

    private static ISagaGrain Saga(IClusterClient client, ParseResult parse) => client.GetGrain<ISagaGrain>(parse.GetValue(Id)!);

    private static Command Start()
    {
        var definition = new Argument<string>("definition") { Description = "Name of a registered saga definition (see 'noorg sagas definitions')" };
        var input = new Option<string>("--input") { Description = "Input as JSON", DefaultValueFactory = _ => "{}" }.FileOrStdin();
        var id = new Option<string?>("--id") { Description = "Saga id (default: a new one); the same id and input return the existing saga" }.Ids();
        var wait = new Option<bool>("--wait") { Description = "Wait until the saga ends (or needs an operator) and show it with its log" };
        var command = new Command("start", "Start a saga") { definition, input, id, wait };
        command.SetAction(CliContext.Connected(parse => CliInput.ReadJson(parse, input), async (parse, json, client, cancellationToken) =>
        {
            var saga = await CliContext.Api(client).Sagas.StartAsync(parse.GetValue(definition)!, json, parse.GetValue(id));
            if (!parse.GetValue(wait))
            {
                CliContext.Write(parse, saga, RenderSaga);
                return CliContext.Ok;
            }

            saga = await client.WaitForSagaAsync(saga.Id, Console.IsErrorRedirected ? null : WaitProgress.ForSaga(saga.Id), cancellationToken);
            return await ShowAsync(parse, client, saga);
        }));
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "Show a saga: its state, its steps and its log") { Id };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var saga = await CliContext.Api(client).Sagas.GetAsync(parse.GetValue(Id)!);
            return await ShowAsync(parse, client, saga);
        }));
        return command;
    }

    private static async Task<int> ShowAsync(ParseResult parse, IClusterClient client, SagaSnapshot saga)
    {
        var grain = client.GetGrain<ISagaGrain>(saga.Id);
        var log = new List<SagaLogEntry>();
        for (var skip = 0; ; skip += 1000)
        {
            var page = await grain.GetLogAsync(skip, 1000);
            log.AddRange(page.Items);
            if (!page.HasMore)
            {
                break;
            }
        }

        CliContext.Write(parse, new { saga, log }, v =>
        {
            RenderSaga(v.saga);
            var table = new Table().AddColumns("#", "At (UTC)", "Action", "Step", "Attempt", "Detail");
            foreach (var e in v.log)
            {
                table.AddRow(e.Sequence.ToString(CultureInfo.InvariantCulture), e.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),
                    e.Action.ToString(), TerminalText.Markup(e.StepId ?? ""), e.Attempt == 0 ? "" : e.Attempt.ToString(CultureInfo.InvariantCulture),
                    TerminalText.Markup(e.Detail ?? ""));
            }

            CliContext.Terminal.Write(table);
        });
        return saga.Status is SagaStatus.Completed or SagaStatus.Running or SagaStatus.Compensating ? CliContext.Ok : CliContext.Failed;
    }

    private static Command List()
    {
        var status = new Option<SagaStatus?>("--status") { Description = "Only sagas in this status" }.Names<SagaStatus?, SagaStatus>();
        var definition = new Option<string?>("--definition") { Description = "Only sagas of this definition" };
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List sagas, newest first") { status, definition, skip, take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var page = await CliContext.Api(client).Sagas.ListAsync(
                new SagaQuery(parse.GetValue(status), parse.GetValue(definition), parse.GetValue(skip), parse.GetValue(take)));
            CliContext.Write(parse, page, p =>
            {
                var table = new Table().AddColumns("Id", "Definition", "Status", "Failed step", "Created (UTC)", "Finished (UTC)");
                foreach (var s in p.Items)
                {
                    table.AddRow(TerminalText.Markup(s.Id), TerminalText.Markup(s.Definition), s.Status.ToString(), TerminalText.Markup(s.FailedStep ?? "-"),
                        s.CreatedAt.ToString("u", CultureInfo.InvariantCulture), s.FinishedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-");
                }

                CliContext.Terminal.Write(table);
                CliContext.Terminal.MarkupLineEscaped($"{p.Items.Count} of {p.Total} saga(s)");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Stats()
    {
        var command = new Command("stats", "Saga statistics: counts by status and definition, durations");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var stats = await CliContext.Api(client).Sagas.StatisticsAsync();
            CliContext.Write(parse, stats, s =>
            {
                var table = new Table().AddColumns("", "Value");
                table.AddRow("[bold]total[/]", s.Total.ToString(CultureInfo.InvariantCulture));
                foreach (var (k, v) in s.ByStatus.Select(p => (p.Key, p.Value)))
                {
                    table.AddRow($"status {k}", v.ToString(CultureInfo.InvariantCulture));
                }

                foreach (var (k, v) in s.ByDefinition.Select(p => (p.Key, p.Value)))
                {
                    table.AddRow($"definition {TerminalText.Markup(k)}", v.ToString(CultureInfo.InvariantCulture));
                }

                table.AddRow("duration median", s.MedianDuration?.ToString() ?? "-");
                table.AddRow("duration p90", s.P90Duration?.ToString() ?? "-");
                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string?>("id") { Description = "Saga id; omit to follow every saga", Arity = ArgumentArity.ZeroOrOne }.Ids();
        var command = new Command("watch", "Follow saga log entries as they happen (Ctrl+C stops)") { id };
        command.SetAction(CliContext.Connected(async (parse, client, cancellationToken) =>
        {
            var json = parse.GetValue(CliContext.Json);
            return await CliContext.WatchAsync(token => CliContext.Api(client).Sagas.WatchAsync(parse.GetValue(id), token),
                e => json ? CliContext.ToJson(e).ReplaceLineEndings("") : TerminalText.Escape(Describe(e)), cancellationToken);
        }));
        return command;
    }

    private static Command Cancel()
    {
        var command = new Command("cancel", "Cancel a running saga: its completed steps are compensated") { Id, Reason };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            CliContext.Write(parse, await CliContext.Api(client).Sagas.CancelAsync(parse.GetValue(Id)!, parse.GetValue(Reason)!), RenderSaga);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Retry()
    {
        var command = new Command("retry", "Resume the compensation of a saga in CompensationFailed") { Id, Reason };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            CliContext.Write(parse, await CliContext.Api(client).Sagas.RetryAsync(parse.GetValue(Id)!, parse.GetValue(Reason)!), RenderSaga);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Definitions()
    {
        var command = new Command("definitions", "The saga definitions registered in the cluster");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var definitions = await CliContext.Api(client).Sagas.DefinitionsAsync();
            CliContext.Write(parse, definitions, list =>
            {
                var table = new Table().AddColumns("Definition", "Group", "Step", "Action", "Compensation", "Timeout", "Attempts", "Back-off");
                foreach (var d in list)
                {
                    foreach (var s in d.Steps)
                    {
                        table.AddRow(TerminalText.Markup(d.Name), s.Group.ToString(CultureInfo.InvariantCulture), TerminalText.Markup(s.Id), TerminalText.Markup(s.Kind),
                            TerminalText.Markup(s.CompensationKind ?? "-"), s.Timeout.ToString(), s.MaxAttempts.ToString(CultureInfo.InvariantCulture), s.Backoff.ToString());
                    }
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static string Describe(SagaLogEntry e) =>
        $"{e.At:HH:mm:ss.fff} {e.SagaId} {e.Action} [{e.Status}]{(e.StepId is null ? "" : $" {e.StepId}")}{(e.Attempt == 0 ? "" : $" #{e.Attempt}")}{(e.Detail is null ? "" : $": {e.Detail}")}";

    private static void RenderSaga(SagaSnapshot s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]Id[/]", TerminalText.Markup(s.Id));
        grid.AddRow("Definition", TerminalText.Markup(s.Definition));
        grid.AddRow("Status", s.Status.ToString());
        grid.AddRow("Input", TerminalText.Markup(s.InputJson));
        if (s.FailedStep is { } failed)
        {
            grid.AddRow("Failed step", TerminalText.Markup(failed));
        }

        if (s.Error is { } error)
        {
            grid.AddRow("Error", TerminalText.Markup(error));
        }

        foreach (var step in s.Steps)
        {
            grid.AddRow($"step {TerminalText.Markup(step.StepId)}",
                TerminalText.Markup($"{step.Phase} (attempt {step.Attempt}{(step.CompensationAttempt > 0 ? $", compensation attempt {step.CompensationAttempt}" : "")}){(step.OutputJson is null ? "" : " " + step.OutputJson)}"));
        }

        CliContext.Terminal.Write(grid);
    }
}
