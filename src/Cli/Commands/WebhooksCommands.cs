using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Patterns.Outbox;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg webhooks ...</c>: subscribe HTTP endpoints to events (task.*), list and remove subscriptions.</summary>
internal static class WebhooksCommands
{
    public static Command Create() => new("webhooks", "Subscribe HTTP endpoints to NoOrg events")
    {
        Add(), List(), Remove(),
    };

    private static Command Add()
    {
        var url = new Argument<string>("url") { Description = "Endpoint to POST events to (http or https)" };
        var events = new Option<string[]>("--events")
        {
            Description = "Event types, or prefixes ending in * (e.g. task.* or task.completed); repeatable", Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var description = new Option<string?>("--description") { Description = "What the subscription is for" };
        var secret = new Option<string?>("--secret") { Description = "Signing secret (16 to 256 characters); a random one if left out" };
        var command = new Command("add", "Subscribe an endpoint; prints the signing secret once") { url, events, description, secret };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var created = await CliContext.Api(client).Webhooks.AddAsync(
                parse.GetValue(url)!, parse.GetValue(events)!, parse.GetValue(description), parse.GetValue(secret));
            CliContext.Write(parse, created, c =>
            {
                CliContext.Terminal.MarkupLineEscaped($"[green]added[/] {c.Subscription.Id} -> {c.Subscription.Url} ({string.Join(", ", c.Subscription.Events)})");
                CliContext.Terminal.MarkupLineEscaped($"secret (shown once; verify the NoOrg-Signature header with it): {c.Secret}");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List webhook subscriptions (secrets are not shown)");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var all = await CliContext.Api(client).Webhooks.ListAsync();
            CliContext.Write(parse, all, list =>
            {
                var table = new Table().AddColumns("Id", "Url", "Events", "Description", "Created (UTC)");
                foreach (var s in list)
                {
                    table.AddRow(TerminalText.Markup(s.Id), TerminalText.Markup(s.Url), TerminalText.Markup(string.Join(", ", s.Events)),
                        TerminalText.Markup(s.Description ?? ""), s.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Remove()
    {
        var id = new Argument<string>("id") { Description = "Subscription id (wh-...)" };
        var command = new Command("remove", "Remove a subscription; messages already recorded for it are dropped") { id };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var removed = await CliContext.Api(client).Webhooks.RemoveAsync(parse.GetValue(id)!);
            if (!removed)
            {
                throw new CliException($"no webhook subscription '{parse.GetValue(id)}'");
            }

            CliContext.Write(parse, new { id = parse.GetValue(id), removed }, r => CliContext.Terminal.MarkupLineEscaped($"removed {r.id}"));
            return CliContext.Ok;
        }));
        return command;
    }
}
