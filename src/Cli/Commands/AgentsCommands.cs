using System.CommandLine;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using Orleans.Streams;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg agents ...</c>: register, inspect, discover and operate agents.</summary>
internal static class AgentsCommands
{
    private static readonly Argument<string> Id = new Argument<string>("id") { Description = "Agent id" }.Ids();

    public static Command Create() => new("agents", "Register, find and operate agents")
    {
        Register(), Show(), List(), Counts(), Capabilities(), SetStatus(), Heartbeat(), Unregister(), History(), Watch(),
    };

    private static Command Register()
    {
        var name = new Option<string>("--name") { Description = "Display name", Required = true };
        var type = new Option<string>("--type") { Description = "Agent type", Required = true };
        var description = new Option<string>("--description") { Description = "What the agent does", DefaultValueFactory = _ => "" };
        var capabilities = new Option<string[]>("--capability") { Description = "A capability (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var max = new Option<int>("--max") { Description = "Maximum concurrent tasks", DefaultValueFactory = _ => 1 };
        var metadata = new Option<string[]>("--meta") { Description = "Metadata as key=value (repeatable)", AllowMultipleArgumentsPerToken = true };
        var command = new Command("register", "Register an agent (the same details again are a no-op)") { Id, name, type, description, capabilities, max, metadata };
        AgentRegistration Registration(ParseResult parse) => new(parse.GetValue(name)!, parse.GetValue(type)!, parse.GetValue(description)!,
            parse.GetValue(capabilities)!, parse.GetValue(max), ParseMetadata(parse.GetValue(metadata)));
        command.SetAction(CliContext.Connected(Registration, async (parse, registration, client, _) =>
        {
            var agent = await CliContext.Api(client).Agents.RegisterAsync(parse.GetValue(Id)!, registration);
            CliContext.Write(parse, agent, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "Show one agent") { Id };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var agent = await CliContext.Api(client).Agents.GetAsync(parse.GetValue(Id)!);
            CliContext.Write(parse, agent, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var capabilities = new Option<string[]>("--capability") { Description = "Only agents with every one of these (repeatable)", AllowMultipleArgumentsPerToken = true };
        var type = new Option<string?>("--type") { Description = "Only agents of this type" };
        var status = new Option<AgentStatus?>("--status") { Description = "Only agents in this status" }.Names<AgentStatus?, AgentStatus>();
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 50 };
        var command = new Command("list", "Find agents by capability, type and status") { capabilities, type, status, skip, take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var query = new AgentQuery(parse.GetValue(capabilities) is { Length: > 0 } c ? c : null, parse.GetValue(type), parse.GetValue(status), parse.GetValue(skip), parse.GetValue(take));
            var page = await CliContext.Api(client).Agents.FindAsync(query);
            CliContext.Write(parse, page, p =>
            {
                var table = new Table().AddColumns("Id", "Name", "Type", "Status", "Load", "Capabilities", "Last heartbeat (UTC)");
                foreach (var a in p.Items)
                {
                    table.AddRow(TerminalText.Markup(a.Id), TerminalText.Markup(a.Name), TerminalText.Markup(a.Type), a.Status.ToString(),
                        $"{a.ActiveTasks}/{a.MaxConcurrentTasks}", TerminalText.Markup(string.Join(", ", a.Capabilities)),
                        a.LastHeartbeatAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
                }

                CliContext.Terminal.Write(table);
                CliContext.Terminal.MarkupLineEscaped($"{p.Items.Count} of {p.Total} agent(s)");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Counts()
    {
        var command = new Command("counts", "Count agents by status and type");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var counts = await CliContext.Api(client).Agents.CountAsync();
            CliContext.Write(parse, counts, c =>
            {
                var table = new Table().AddColumns("", "Count");
                table.AddRow("[bold]total[/]", c.Total.ToString(System.Globalization.CultureInfo.InvariantCulture));
                foreach (var (s, n) in c.ByStatus)
                {
                    table.AddRow($"status {s}", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                foreach (var (t, n) in c.ByType)
                {
                    table.AddRow($"type {TerminalText.Markup(t)}", n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Capabilities()
    {
        var command = new Command("capabilities", "List every capability on offer");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var all = await CliContext.Api(client).Agents.CapabilitiesAsync();
            CliContext.Write(parse, all, list => Console.Out.WriteLine(string.Join(Environment.NewLine, list.Select(TerminalText.Escape))));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command SetStatus()
    {
        var status = new Argument<AgentStatus>("status") { Description = "available, draining, offline or error" }.Names<AgentStatus, AgentStatus>();
        var reason = new Option<string>("--reason") { Description = "Why", DefaultValueFactory = _ => "set by operator" };
        var command = new Command("status", "Set an agent's status (draining stops new work)") { Id, status, reason };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var agent = await CliContext.Api(client).Agents.SetStatusAsync(parse.GetValue(Id)!, parse.GetValue(status), $"{parse.GetValue(reason)} ({CliContext.Actor})");
            CliContext.Write(parse, agent, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Heartbeat()
    {
        var command = new Command("heartbeat", "Send one heartbeat for an agent") { Id };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var agent = await CliContext.Api(client).Agents.HeartbeatAsync(parse.GetValue(Id)!);
            CliContext.Write(parse, agent, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Unregister()
    {
        var reason = new Option<string>("--reason") { Description = "Why", DefaultValueFactory = _ => "unregistered by operator" };
        var command = new Command("unregister", "Remove an agent; its tasks go back to be reassigned") { Id, reason };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            await CliContext.Api(client).Agents.UnregisterAsync(parse.GetValue(Id)!, $"{parse.GetValue(reason)} ({CliContext.Actor})");
            CliContext.Write(parse, new { id = parse.GetValue(Id), unregistered = true }, _ => CliContext.Terminal.MarkupLine("[green]Unregistered.[/]"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command History()
    {
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 50 };
        var command = new Command("history", "An agent's history, newest first") { Id, skip, take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var page = await CliContext.Api(client).Agents.HistoryAsync(parse.GetValue(Id)!, parse.GetValue(skip), parse.GetValue(take));
            CliContext.Write(parse, page, p =>
            {
                var table = new Table().AddColumns("#", "At (UTC)", "Event", "Status", "Task", "Detail");
                foreach (var e in p.Items)
                {
                    table.AddRow(e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), e.At.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
                        e.Kind.ToString(), e.Status.ToString(), TerminalText.Markup(e.TaskId ?? ""), TerminalText.Markup(e.Detail ?? ""));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string?>("id") { Description = "Agent id; omit to follow every agent", Arity = ArgumentArity.ZeroOrOne }.Ids();
        var command = new Command("watch", "Follow agent events as they happen (Ctrl+C stops)") { id };
        command.SetAction(CliContext.Connected(async (parse, client, cancellationToken) =>
        {
            var json = parse.GetValue(CliContext.Json);
            return await CliContext.WatchAsync(token => CliContext.Api(client).Agents.WatchAsync(parse.GetValue(id), token),
                e => json ? System.Text.Json.JsonSerializer.Serialize(e) : TerminalText.Escape($"{e.At:HH:mm:ss.fff} {e.AgentId} {e.Kind} {e.Status} {e.TaskId} {e.Detail}"),
                cancellationToken);
        }));
        return command;
    }

    internal static IReadOnlyDictionary<string, string> ParseMetadata(string[]? pairs)
    {
        var result = new Dictionary<string, string>();
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliInputException($"--meta '{TerminalText.Escape(pair)}' is not key=value");
            }

            result[pair[..eq]] = pair[(eq + 1)..];
        }

        return result;
    }

    private static void RenderAgent(AgentSnapshot a)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]Id[/]", TerminalText.Markup(a.Id));
        grid.AddRow("Name", TerminalText.Markup(a.Registration.Name));
        grid.AddRow("Type", TerminalText.Markup(a.Registration.Type));
        grid.AddRow("Status", $"{a.Status}{(a.StatusReason is null ? "" : $" ({TerminalText.Markup(a.StatusReason)})")}");
        grid.AddRow("Capabilities", TerminalText.Markup(string.Join(", ", a.Registration.Capabilities)));
        grid.AddRow("Load", $"{a.ActiveTaskIds.Count}/{a.Registration.MaxConcurrentTasks}");
        grid.AddRow("Tasks", TerminalText.Markup(string.Join(", ", a.ActiveTaskIds)));
        grid.AddRow("Last heartbeat", a.LastHeartbeatAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        CliContext.Terminal.Write(grid);
    }
}
