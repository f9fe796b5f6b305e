using System.CommandLine;
using System.Globalization;
using NoOrg.Client.Tasks;
using NoOrg.Grains;
using NoOrg.Grains.Tasks;
using Orleans.Streams;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg tasks ...</c>: every task operation, from create to clean-up.</summary>
internal static class TasksCommands
{
    private static readonly Argument<string> Id = new Argument<string>("id") { Description = "Task id" }.Ids();
    private static readonly Argument<string> AgentArgument = new Argument<string>("agent") { Description = "Agent id" }.Ids();
    private static readonly Option<string> Reason = new("--reason") { Description = "Why (recorded in the history)", DefaultValueFactory = _ => "by operator" };
    private static readonly Option<string> AgentOption = new Option<string>("--agent") { Description = "The agent holding the task", Required = true }.Ids();

    public static Command Create() => new("tasks", "Create, follow and operate tasks")
    {
        CreateTask(), Show(), List(), Assign(), Unassign(), Reassign(), Start(), Complete(), Fail(), Cancel(), History(),
        Estimate(), Stats(), Cleanup(), Watch(),
    };

    private static NoOrg.Client.Tasks.TaskClient Tasks(IClusterClient client) => CliContext.Api(client).Tasks;

    private static Command CreateTask()
    {
        var name = new Option<string>("--name") { Description = "Task name", Required = true };
        var type = new Option<string>("--type") { Description = "Task type (the demo worker knows echo, uppercase, sleep, fail)", Required = true };
        var description = new Option<string>("--description") { DefaultValueFactory = _ => "" };
        var input = new Option<string>("--input") { Description = "Input as JSON", DefaultValueFactory = _ => "null" }.FileOrStdin();
        var priority = new Option<TaskPriority>("--priority") { DefaultValueFactory = _ => TaskPriority.Medium }.Names<TaskPriority, TaskPriority>();
        var capabilities = new Option<string[]>("--capability") { Description = "Required capability (repeatable); default: the task type", AllowMultipleArgumentsPerToken = true };
        var dependsOn = new Option<string[]>("--depends-on") { Description = "Task id this one waits for (repeatable)", AllowMultipleArgumentsPerToken = true }.Ids();
        var parent = new Option<string?>("--parent") { Description = "Parent task id" }.Ids();
        var timeout = new Option<int?>("--timeout-seconds") { Description = "Fail the attempt if running longer" };
        var attempts = new Option<int>("--max-attempts") { DefaultValueFactory = _ => 3 };
        var backoff = new Option<int?>("--backoff-seconds") { Description = "First retry delay (doubles each attempt)" };
        var deadline = new Option<DateTimeOffset?>("--deadline") { Description = "Fail if not finished by then (ISO 8601)" };
        var key = new Option<string?>("--idempotency-key") { Description = "Same key and content returns the existing task" };
        var meta = new Option<string[]>("--meta") { Description = "Metadata key=value (repeatable)", AllowMultipleArgumentsPerToken = true };
        var wait = new Option<bool>("--wait") { Description = "Wait until the task finishes and show it" };
        var command = new Command("create", "Create a task") { name, type, description, input, priority, capabilities, dependsOn, parent, timeout, attempts, backoff, deadline, key, meta, wait };
        TaskSpec Spec(ParseResult parse)
        {
            var typeName = parse.GetValue(type)!;
            return new TaskSpec(parse.GetValue(name)!, typeName, parse.GetValue(description)!, CliInput.ReadJson(parse, input), parse.GetValue(priority),
                parse.GetValue(capabilities) is { Length: > 0 } caps ? caps : [typeName], parse.GetValue(dependsOn) ?? [], parse.GetValue(parent),
                parse.GetValue(timeout) is { } t ? TimeSpan.FromSeconds(t) : null, parse.GetValue(attempts),
                parse.GetValue(backoff) is { } b ? TimeSpan.FromSeconds(b) : null, parse.GetValue(deadline), parse.GetValue(key),
                AgentsCommands.ParseMetadata(parse.GetValue(meta)));
        }

        command.SetAction(CliContext.Connected(Spec, async (parse, spec, client, cancellationToken) =>
        {
            var task = await Tasks(client).CreateAsync(spec);
            if (parse.GetValue(wait))
            {
                // On a terminal, say what it waits for each time that changes; on a pipe, only the final task is written.
                var progress = Console.IsErrorRedirected ? null : WaitProgress.ForTask(task.Id);
                task = await Tasks(client).WaitAsync(task.Id, Timeout.InfiniteTimeSpan, progress, cancellationToken);
            }

            CliContext.Write(parse, task, RenderTask);
            return task.State is TaskState.Failed or TaskState.Cancelled ? CliContext.Failed : CliContext.Ok;
        }));
        return command;
    }

    private static Command Show() => Simple("show", "Show one task", async (parse, client) =>
        await Tasks(client).GetAsync(parse.GetValue(Id)!));

    private static Command Assign() => Simple("assign", "Assign a pending task to an agent", (parse, client) =>
        Tasks(client).AssignAsync(parse.GetValue(Id)!, parse.GetValue(AgentArgument)!), AgentArgument);

    private static Command Unassign() => Simple("unassign", "Take a task back from its agent (back to pending)", (parse, client) =>
        Tasks(client).UnassignAsync(parse.GetValue(Id)!, parse.GetValue(Reason)!), Reason);

    private static Command Reassign() => Simple("reassign", "Move a task to another agent", (parse, client) =>
        Tasks(client).ReassignAsync(parse.GetValue(Id)!, parse.GetValue(AgentArgument)!, parse.GetValue(Reason)!), AgentArgument, Reason);

    private static Command Start() => Simple("start", "Mark a task as running (as its agent)", (parse, client) =>
        Tasks(client).StartAsync(parse.GetValue(Id)!, parse.GetValue(AgentOption)!), AgentOption);

    private static Command Complete()
    {
        var result = new Option<string>("--result") { Description = "Result as JSON", DefaultValueFactory = _ => "null" }.FileOrStdin();
        var ms = new Option<int?>("--processing-ms") { Description = "Processing time in milliseconds" };
        var command = new Command("complete", "Complete a running task (as its agent)") { Id, AgentOption, result, ms };
        command.SetAction(CliContext.Connected(parse => CliInput.ReadJson(parse, result), async (parse, json, client, _) =>
        {
            var task = await Tasks(client).CompleteAsync(parse.GetValue(Id)!, parse.GetValue(AgentOption)!, json,
                parse.GetValue(ms) is { } m ? TimeSpan.FromMilliseconds(m) : null);
            CliContext.Write(parse, task, RenderTask);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Fail()
    {
        var error = new Option<string>("--error") { Description = "What went wrong", Required = true };
        return Simple("fail", "Fail a running task (retried while attempts remain)", (parse, client) =>
            Tasks(client).FailAsync(parse.GetValue(Id)!, parse.GetValue(AgentOption)!, parse.GetValue(error)!), AgentOption, error);
    }

    private static Command Cancel() => Simple("cancel", "Cancel a task that has not finished", (parse, client) =>
        Tasks(client).CancelAsync(parse.GetValue(Id)!, parse.GetValue(Reason)!), Reason);

    private static Command History()
    {
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 100 };
        var command = new Command("history", "Every step of a task, oldest first") { Id, skip, take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var page = await Tasks(client).HistoryAsync(parse.GetValue(Id)!, parse.GetValue(skip), parse.GetValue(take));
            CliContext.Write(parse, page, p =>
            {
                var table = new Table().AddColumns("#", "At (UTC)", "Action", "From", "To", "By", "Agent", "Reason");
                foreach (var e in p.Items)
                {
                    table.AddRow(e.Sequence.ToString(CultureInfo.InvariantCulture), e.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),
                        e.Action.ToString(), e.From.ToString(), e.To.ToString(), TerminalText.Markup(e.Actor),
                        TerminalText.Markup(e.FromAgent is null && e.ToAgent is null ? "" : $"{e.FromAgent ?? "-"} -> {e.ToAgent ?? "-"}"),
                        TerminalText.Markup(e.Reason ?? ""));
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var states = new Option<TaskState[]>("--state") { Description = "Only these states (repeatable)", AllowMultipleArgumentsPerToken = true }.Names<TaskState[], TaskState>();
        var types = new Option<string[]>("--type") { Description = "Only these types (repeatable)", AllowMultipleArgumentsPerToken = true };
        var priorities = new Option<TaskPriority[]>("--priority") { Description = "Only these priorities (repeatable)", AllowMultipleArgumentsPerToken = true }.Names<TaskPriority[], TaskPriority>();
        var assignee = new Option<string?>("--assigned-to") { Description = "Only tasks held by this agent" }.Ids();
        var createdAfter = new Option<DateTimeOffset?>("--created-after");
        var createdBefore = new Option<DateTimeOffset?>("--created-before");
        var updatedAfter = new Option<DateTimeOffset?>("--updated-after");
        var updatedBefore = new Option<DateTimeOffset?>("--updated-before");
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List tasks with filters, oldest first")
        {
            states, types, priorities, assignee, createdAfter, createdBefore, updatedAfter, updatedBefore, skip, take,
        };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var query = new TaskQuery(NullIfEmpty(parse.GetValue(states)), NullIfEmpty(parse.GetValue(types)), NullIfEmpty(parse.GetValue(priorities)),
                parse.GetValue(assignee), parse.GetValue(createdAfter), parse.GetValue(createdBefore), parse.GetValue(updatedAfter),
                parse.GetValue(updatedBefore), parse.GetValue(skip), parse.GetValue(take));
            var page = await Tasks(client).ListAsync(query);
            CliContext.Write(parse, page, p =>
            {
                var table = new Table().AddColumns("Id", "Name", "Type", "State", "Priority", "Agent", "Attempt", "Created (UTC)");
                foreach (var t in p.Items)
                {
                    table.AddRow(TerminalText.Markup(t.Id), TerminalText.Markup(t.Name), TerminalText.Markup(t.Type), t.State.ToString(), t.Priority.ToString(),
                        TerminalText.Markup(t.AssignedTo ?? "-"), t.Attempt.ToString(CultureInfo.InvariantCulture), t.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
                }

                CliContext.Terminal.Write(table);
                CliContext.Terminal.MarkupLineEscaped($"{p.Items.Count} of {p.Total} task(s)");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Estimate()
    {
        var type = new Argument<string>("type") { Description = "Task type" };
        var agent = new Option<string?>("--agent") { Description = "Only this agent's history" }.Ids();
        var priority = new Option<TaskPriority>("--priority") { Description = "Priority for the prior when there is no history", DefaultValueFactory = _ => TaskPriority.Medium }.Names<TaskPriority, TaskPriority>();
        var command = new Command("estimate", "Expected duration of a task type, from completed history") { type, agent, priority };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var estimate = await Tasks(client).EstimateAsync(parse.GetValue(type)!, parse.GetValue(agent), parse.GetValue(priority));
            CliContext.Write(parse, estimate, e =>
            {
                var scope = e.AgentId is null ? e.Type : $"{e.Type} on {e.AgentId}";
                var basis = e.FromPrior ? "prior: no completed history" : $"{e.SampleCount} sample(s)";
                CliContext.Terminal.MarkupLineEscaped($"{scope}: median {e.Median.TotalSeconds:F1}s, p90 {e.P90.TotalSeconds:F1}s ({basis})");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Stats()
    {
        var command = new Command("stats", "Task statistics: counts, processing times, success rate, throughput");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var stats = await Tasks(client).StatisticsAsync();
            CliContext.Write(parse, stats, s =>
            {
                var table = new Table().AddColumns("", "Value");
                table.AddRow("[bold]total[/]", s.Total.ToString(CultureInfo.InvariantCulture));
                foreach (var (k, v) in s.ByState.Select(p => (p.Key, p.Value)))
                {
                    table.AddRow($"state {k}", v.ToString(CultureInfo.InvariantCulture));
                }

                foreach (var (k, v) in s.ByPriority.Select(p => (p.Key, p.Value)))
                {
                    table.AddRow($"priority {k}", v.ToString(CultureInfo.InvariantCulture));
                }

                foreach (var (k, v) in s.ByType.Select(p => (p.Key, p.Value)))
                {
                    table.AddRow($"type {TerminalText.Markup(k)}", v.ToString(CultureInfo.InvariantCulture));
                }

                table.AddRow("processing median", s.MedianProcessingTime?.ToString() ?? "-");
                table.AddRow("processing p90", s.P90ProcessingTime?.ToString() ?? "-");
                table.AddRow("success rate", s.SuccessRate?.ToString("P1", CultureInfo.InvariantCulture) ?? "-");
                table.AddRow("completions/min", s.CompletionsPerMinute.ToString("F1", CultureInfo.InvariantCulture));
                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Cleanup()
    {
        var days = new Option<double?>("--older-than-days") { Description = "Remove finished tasks older than this (default: the retention setting)" };
        var command = new Command("cleanup", "Remove finished tasks older than the retention period") { days };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var removed = await Tasks(client).CleanupAsync(parse.GetValue(days) is { } d ? TimeSpan.FromDays(d) : null);
            CliContext.Write(parse, new { removed }, r => CliContext.Terminal.MarkupLineEscaped($"Removed {r.removed} task(s)."));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string?>("id") { Description = "Task id; omit to follow every task", Arity = ArgumentArity.ZeroOrOne }.Ids();
        var command = new Command("watch", "Follow task events as they happen (Ctrl+C stops)") { id };
        command.SetAction(CliContext.Connected(async (parse, client, cancellationToken) =>
        {
            var json = parse.GetValue(CliContext.Json);
            return await CliContext.WatchAsync(token => Tasks(client).WatchAsync(parse.GetValue(id), token),
                e => json ? System.Text.Json.JsonSerializer.Serialize(e) : TerminalText.Escape(Describe(e)), cancellationToken);
        }));
        return command;
    }

    private static string Describe(TaskEvent e) =>
        $"{e.At:HH:mm:ss.fff} {e.TaskId} {e.Action} {e.From}->{e.To} by {e.Actor}{(e.ToAgent is null ? "" : $" agent {e.ToAgent}")}{(e.Reason is null ? "" : $": {e.Reason}")}";

    private static IReadOnlyList<T>? NullIfEmpty<T>(T[]? values) => values is { Length: > 0 } ? values : null;

    /// <summary>A command that takes a task id (and more), calls one task operation and shows the task.</summary>
    private static Command Simple(string name, string description, Func<ParseResult, IClusterClient, Task<TaskSnapshot>> call, params Symbol[] more)
    {
        var command = new Command(name, description) { Id };
        foreach (var symbol in more)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var task = await call(parse, client);
            CliContext.Write(parse, task, RenderTask);
            return CliContext.Ok;
        }));
        return command;
    }

    private static void RenderTask(TaskSnapshot t)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]Id[/]", TerminalText.Markup(t.Id));
        grid.AddRow("Name", TerminalText.Markup(t.Spec.Name));
        grid.AddRow("Type", TerminalText.Markup(t.Spec.Type));
        grid.AddRow("State", t.State.ToString());
        grid.AddRow("Priority", t.Spec.Priority.ToString());
        grid.AddRow("Agent", TerminalText.Markup(t.AssignedTo ?? "-"));
        grid.AddRow("Attempt", $"{t.Attempt}/{t.Spec.MaxAttempts}");
        if (t.WaitingOn.Count > 0)
        {
            grid.AddRow("Waiting on", TerminalText.Markup(string.Join(", ", t.WaitingOn)));
        }

        if (t.UnassignableReason is { } why)
        {
            grid.AddRow("Unassignable", TerminalText.Markup(why));
        }

        if (t.ResultJson is { } result)
        {
            grid.AddRow("Result", TerminalText.Markup(result));
        }

        if (t.Error is { } error)
        {
            grid.AddRow("Error", TerminalText.Markup(error));
        }

        CliContext.Terminal.Write(grid);
    }
}

