using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Alerts;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg alerts ...</c>: alert rules over the cluster's own signals, what is firing, acknowledgement and silence.</summary>
internal static class AlertsCommands
{
    public static Command Create() => new("alerts", "Alert rules over NoOrg's own signals (agents, tasks, outbox, sagas)")
    {
        Rules(), List(), Set(), Delete(), Ack(), Silence(),
    };

    private static Command Rules()
    {
        var command = new Command("rules", "List every alert rule and its state");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            Print(parse, await CliContext.Api(client).Alerts.ListRulesAsync());
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the rules pending or firing now");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            Print(parse, await CliContext.Api(client).Alerts.ListActiveAsync());
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Set()
    {
        var name = new Argument<string>("name") { Description = "Rule name (an id: no spaces)" };
        var kind = new Option<AlertKind>("--kind")
        {
            Description = "AgentUnhealthy, PendingTasks, DeadLetters, SagaFailureRate or NoHealthyAgent", Required = true,
        }.Names<AlertKind, AlertKind>();
        var threshold = new Option<double>("--threshold") { Description = "Fires above this value (a share 0 to 1 for SagaFailureRate); not used by NoHealthyAgent" };
        var forDuration = new Option<TimeSpan>("--for") { Description = "How long the condition must hold before firing, as hh:mm:ss (00:00:00 fires at once)" };
        var capability = new Option<string?>("--capability") { Description = "The pool's capability (PendingTasks, optional) or the capability (NoHealthyAgent, required)" };
        var window = new Option<TimeSpan?>("--window") { Description = "SagaFailureRate: the sagas finished within this time count, as hh:mm:ss" };
        var description = new Option<string?>("--description") { Description = "What the rule means to whoever is notified" };
        var command = new Command("set", "Create a rule or replace its spec (state and history are kept)") { name, kind, threshold, forDuration, capability, window, description };
        command.Aliases.Add("create");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var spec = new AlertRuleSpec(parse.GetValue(kind), parse.GetValue(threshold), parse.GetValue(forDuration), parse.GetValue(capability),
                parse.GetValue(window), parse.GetValue(description));
            var rule = await CliContext.Api(client).Alerts.CreateOrReplaceAsync(parse.GetValue(name)!, spec);
            CliContext.Write(parse, rule, r => CliContext.Terminal.MarkupLineEscaped($"[green]set[/] {r.Name}: {Describe(r.Spec)} ({State(r)})"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Delete()
    {
        var name = new Argument<string>("name") { Description = "Rule name" };
        var command = new Command("delete", "Delete a rule") { name };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            if (!await CliContext.Api(client).Alerts.DeleteAsync(parse.GetValue(name)!))
            {
                throw new CliException($"no alert rule '{parse.GetValue(name)}'");
            }

            CliContext.Write(parse, new { name = parse.GetValue(name), deleted = true }, r => CliContext.Terminal.MarkupLineEscaped($"deleted {r.name}"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Ack()
    {
        var name = new Argument<string>("name") { Description = "Rule name" };
        var note = new Option<string?>("--note") { Description = "Why, or what is being done about it" };
        var command = new Command("ack", "Acknowledge a pending or firing rule (notified as alert.acknowledged)") { name, note };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var rule = await CliContext.Api(client).Alerts.AcknowledgeAsync(parse.GetValue(name)!, parse.GetValue(note));
            CliContext.Write(parse, rule, r => CliContext.Terminal.MarkupLineEscaped($"acknowledged {r.Name} ({State(r)})"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Silence()
    {
        var name = new Argument<string>("name") { Description = "Rule name" };
        var duration = new Option<TimeSpan>("--for") { Description = "How long, as hh:mm:ss (00:00:00 lifts a silence)", Required = true };
        var command = new Command("silence", "Silence a rule's notifications for a time; it still changes state") { name, duration };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var rule = await CliContext.Api(client).Alerts.SilenceAsync(parse.GetValue(name)!, parse.GetValue(duration));
            CliContext.Write(parse, rule, r =>
            {
                if (r.SilencedUntil is { } until)
                {
                    CliContext.Terminal.MarkupLineEscaped($"silenced {r.Name} until {until.ToString("u", CultureInfo.InvariantCulture)}");
                }
                else
                {
                    CliContext.Terminal.MarkupLineEscaped($"{r.Name} is no longer silenced");
                }
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static void Print(ParseResult parse, IReadOnlyList<AlertRule> rules) =>
        CliContext.Write(parse, rules, list =>
        {
            var table = new Table().AddColumns("Name", "State", "Since (UTC)", "Rule", "Last value", "Acknowledged", "Silenced until (UTC)");
            foreach (var r in list)
            {
                table.AddRow(TerminalText.Markup(r.Name), TerminalText.Markup(State(r)), r.Since.ToString("u", CultureInfo.InvariantCulture),
                    TerminalText.Markup(Describe(r.Spec)), r.LastValue?.ToString("0.###", CultureInfo.InvariantCulture) ?? "",
                    TerminalText.Markup(r.Acknowledgement is { } a ? $"{a.By}: {a.Note}" : ""),
                    r.SilencedUntil?.ToString("u", CultureInfo.InvariantCulture) ?? "");
            }

            CliContext.Terminal.Write(table);
        });

    private static string State(AlertRule rule) => rule.State.ToString().ToLowerInvariant();

    private static string Describe(AlertRuleSpec spec)
    {
        var what = spec.Kind switch
        {
            AlertKind.AgentUnhealthy => $"unhealthy agents > {spec.Threshold}",
            AlertKind.PendingTasks => $"pending tasks{(spec.Capability is { } c ? $" needing {c}" : "")} > {spec.Threshold}",
            AlertKind.DeadLetters => $"dead letters > {spec.Threshold}",
            AlertKind.SagaFailureRate => $"saga failure rate over {spec.Window} > {spec.Threshold}",
            AlertKind.NoHealthyAgent => $"no healthy agent with {spec.Capability}",
            _ => spec.Kind.ToString(),
        };
        return spec.For > TimeSpan.Zero ? $"{what} for {spec.For}" : what;
    }
}
