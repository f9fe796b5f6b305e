using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Security;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg keys ...</c>: API keys stored in the cluster as salted hashes; a secret is shown once, at creation.</summary>
internal static class KeysCommands
{
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromHours(1);

    public static Command Create() => new("keys", "Create, list, revoke and rotate the API keys of the HTTP API")
    {
        CreateKey(), List(), Revoke(), Rotate(),
    };

    private static Command CreateKey()
    {
        var name = new Option<string>("--name") { Description = "What the key is for (shown in lists and recorded in histories)", Required = true };
        var roles = RolesOption();
        var agents = new Option<string[]>("--agent") { Description = "Agent id an agent key acts for (repeatable; required with --role agent)", AllowMultipleArgumentsPerToken = true };
        var expiresIn = new Option<TimeSpan?>("--expires-in") { Description = "How long the key works, as d.hh:mm:ss (30.00:00:00 for 30 days); for ever if left out" };
        var command = new Command("create", "Create a key; prints its secret once (it is stored only as a salted hash)") { name, roles, agents, expiresIn };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var expires = parse.GetValue(expiresIn) is { } span ? DateTimeOffset.UtcNow + span : (DateTimeOffset?)null;
            var created = await Keys(client).CreateAsync(new ApiKeySpec(parse.GetValue(name)!, parse.GetValue(roles)!, parse.GetValue(agents) ?? [], expires));
            CliContext.Write(parse, created, Print);
            return CliContext.Ok;
        }));
        return command;
    }

    /// <summary><c>--role</c>, repeatable, required: what a key or token may do.</summary>
    public static Option<AccessRole[]> RolesOption() => new Option<AccessRole[]>("--role")
    {
        Description = "admin, operator, agent or reader (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true,
    }.Names<AccessRole[], AccessRole>();

    private static Command List()
    {
        var command = new Command("list", "List keys (never their secrets)");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var keys = await Keys(client).ListAsync();
            CliContext.Write(parse, keys, list =>
            {
                var now = DateTimeOffset.UtcNow;
                var table = new Table().AddColumns("Id", "Name", "Roles", "Agents", "State", "Expires (UTC)", "Last used (UTC)");
                foreach (var k in list)
                {
                    table.AddRow(TerminalText.Markup(k.Id), TerminalText.Markup(k.Name), string.Join(", ", k.Roles.Select(r => r.ToString().ToLowerInvariant())),
                        TerminalText.Markup(string.Join(", ", k.AgentIds)), State(k, now), Time(k.ExpiresAt), Time(k.LastUsedAt));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Revoke()
    {
        var id = new Argument<string>("id") { Description = "Key id (k...)" };
        var command = new Command("revoke", "Stop a key at once, on every silo") { id };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var revoked = await Keys(client).RevokeAsync(parse.GetValue(id)!);
            CliContext.Write(parse, revoked, k => CliContext.Terminal.MarkupLineEscaped($"revoked {k.Id} ({k.Name})"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Rotate()
    {
        var id = new Argument<string>("id") { Description = "Key id (k...)" };
        var grace = new Option<TimeSpan>("--grace")
        {
            Description = "How long the old key keeps working beside the new one, as hh:mm:ss (up to 30 days)", DefaultValueFactory = _ => DefaultGrace,
        };
        var command = new Command("rotate", "Replace a key by a new one with the same name and roles; prints the new secret once") { id, grace };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var created = await Keys(client).RotateAsync(parse.GetValue(id)!, parse.GetValue(grace));
            CliContext.Write(parse, created, c =>
            {
                Print(c);
                CliContext.Terminal.MarkupLineEscaped($"the old key {parse.GetValue(id)} works until {Time(c.Key.CreatedAt + parse.GetValue(grace))}");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static void Print(ApiKeyCreated created)
    {
        CliContext.Terminal.MarkupLineEscaped($"[green]created[/] {created.Key.Id} ({created.Key.Name}: {string.Join(", ", created.Key.Roles.Select(r => r.ToString().ToLowerInvariant()))})");
        CliContext.Terminal.MarkupLineEscaped($"secret (shown once; send it as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'): {created.Secret}");
    }

    private static string State(ApiKeyInfo key, DateTimeOffset now) =>
        key.RevokedAt is not null ? "revoked"
        : key.GraceUntil <= now ? "rotated out"
        : key.GraceUntil is { } until ? $"rotated, works until {Time(until)}"
        : key.ExpiresAt <= now ? "expired"
        : "active";

    private static string Time(DateTimeOffset? time) => time?.ToString("u", CultureInfo.InvariantCulture) ?? "";

    private static IApiKeysGrain Keys(IClusterClient client) => client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key);
}
