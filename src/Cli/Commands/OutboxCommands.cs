using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Patterns.Outbox;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg outbox ...</c>: what is waiting to go out, dead letters, and retrying them.</summary>
internal static class OutboxCommands
{
    private static readonly Argument<string> StateName = new("state") { Description = "State name of the grain type (e.g. task)" };
    private static readonly Argument<string> Key = new("key") { Description = "Grain key (e.g. the task id)" };

    public static Command Create() => new("outbox", "Messages waiting in grains' outboxes, and dead letters")
    {
        Status(), Dead(), Show(), Retry(), Sweep(),
    };

    private static Command Status()
    {
        var command = new Command("status", "Pending messages and dead letters per grain type (read from stored state)");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var summary = await Sweeper(client).SummaryAsync();
            CliContext.Write(parse, summary, rows =>
            {
                var table = new Table().AddColumns("State", "Grains pending", "Messages pending", "Grains with dead letters", "Dead letters");
                foreach (var r in rows)
                {
                    table.AddRow(TerminalText.Markup(r.StateName), N(r.GrainsWithPending), N(r.PendingMessages), N(r.GrainsWithDeadLetters), N(r.DeadLetters));
                }

                CliContext.Terminal.Write(table);
                if (rows.Count == 0)
                {
                    CliContext.Terminal.MarkupLine("every outbox is empty");
                }
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Dead()
    {
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 100 };
        var command = new Command("dead", "Grains holding dead letters") { take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var hosts = await Sweeper(client).DeadHostsAsync(parse.GetValue(take));
            CliContext.Write(parse, hosts, rows =>
            {
                var table = new Table().AddColumns("State", "Key", "Dead letters");
                foreach (var r in rows)
                {
                    table.AddRow(TerminalText.Markup(r.StateName), TerminalText.Markup(r.Key), N(r.DeadLetters));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "One grain's outbox: pending messages in order, then dead letters with their last error") { StateName, Key };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var entries = await Sweeper(client).InspectAsync(parse.GetValue(StateName)!, parse.GetValue(Key)!);
            CliContext.Write(parse, entries, rows =>
            {
                var table = new Table().AddColumns("Message", "Type", "Target", "Attempts", "Next attempt (UTC)", "Dead", "Last error");
                foreach (var e in rows)
                {
                    table.AddRow(TerminalText.Markup(e.MessageId), TerminalText.Markup(e.Type), TerminalText.Markup(e.Target), N(e.Attempts),
                        e.NextAttemptAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-", e.Dead ? "[red]yes[/]" : "no", TerminalText.Markup(e.LastError ?? ""));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Retry()
    {
        var message = new Option<string?>("--message") { Description = "Only this message id (default: every dead letter of the grain)" };
        var command = new Command("retry", "Move a grain's dead letters back to pending, with fresh attempts") { StateName, Key, message };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var retried = await Sweeper(client).RetryAsync(parse.GetValue(StateName)!, parse.GetValue(Key)!, parse.GetValue(message));
            CliContext.Write(parse, new { retried }, r => CliContext.Terminal.MarkupLineEscaped($"{r.retried} dead letter(s) back to pending"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Sweep()
    {
        var command = new Command("sweep", "Wake every grain whose stored outbox holds messages now, instead of at the next sweep");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var woken = await Sweeper(client).SweepNowAsync();
            CliContext.Write(parse, new { woken }, r => CliContext.Terminal.MarkupLineEscaped($"woke {r.woken} grain(s)"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static IOutboxSweeperGrain Sweeper(IClusterClient client) => client.GetGrain<IOutboxSweeperGrain>(IOutboxSweeperGrain.Key);

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
