using System.CommandLine;
using NoOrg.Cli;
using NoOrg.Cli.Commands;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;

namespace NoOrg.Tests.Cli;

/// <summary>The CLI's pure pieces: escaping for the terminal, reading --input, parse-time checks, and exit codes.</summary>
public sealed class CliEdgeTests
{
    [Theory]
    [InlineData("\u001b[31mred\u001b[0m", "\\u001b[31mred\\u001b[0m")]
    [InlineData("nul\0", "nul\\u0000")]
    [InlineData("line\nbreak\ttab\r", "line\\u000abreak\\u0009tab\\u000d")]
    [InlineData("del\u007f c1\u009b", "del\\u007f c1\\u009b")]
    [InlineData("bidi \u202e", "bidi \\u202e")]
    [InlineData("emoji 😀, accents é, CJK 漢字", "emoji 😀, accents é, CJK 漢字")]
    [InlineData("", "")]
    public void Escape_shows_control_characters_as_visible_escapes_and_leaves_the_rest(string text, string shown)
    {
        var escaped = TerminalText.Escape(text);

        Assert.Equal(shown, escaped);
        Assert.DoesNotContain(escaped, c => char.IsControl(c));
    }

    [Fact]
    public void Escape_shows_lone_surrogates_and_keeps_pairs()
    {
        // Built at run time: an attribute argument cannot carry a lone surrogate.
        var text = "lone " + '\ud800' + " and " + '\udc00' + ", pair \ud83d\ude00";

        Assert.Equal("lone \\ud800 and \\udc00, pair 😀", TerminalText.Escape(text));
    }

    [Fact]
    public void Markup_escapes_control_characters_and_then_markup()
    {
        Assert.Equal("[[b]]\\u001b", TerminalText.Markup("[b]\u001b"));
        Assert.Equal("", TerminalText.Markup(null));
    }

    [Fact]
    public void Escaped_lines_escape_string_arguments_only()
    {
        var name = "\u001b]0;title\u0007";
        var line = TerminalText.Escaped($"task {name} has {3} step(s)");

        Assert.Equal("task \\u001b]0;title\\u0007 has 3 step(s)", line.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Read_takes_a_file_standard_input_or_the_value_itself()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"from":"file"}""");

            Assert.Equal("""{"from":"file"}""", CliInput.Read("--input", "@" + file, TextReader.Null));
            Assert.Equal("""{"from":"stdin"}""", CliInput.Read("--input", "-", new StringReader("""{"from":"stdin"}""")));
            Assert.Equal("""{"inline":1}""", CliInput.Read("--input", """{"inline":1}""", TextReader.Null));
            Assert.Null(CliInput.FileProblem("--input", "@" + file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_at_path_value_reaches_the_command_as_is()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"quoted":"words stay"}""");
            var create = TasksCommands.Create();
            var parse = new RootCommand { create }.Parse(["tasks", "create", "--name", "n", "--type", "t", "--input", "@" + file], CliContext.Parsing);
            var input = create.Subcommands.Single(c => c.Name == "create").Options.OfType<Option<string>>().Single(o => o.Name == "--input");

            Assert.Empty(parse.Errors);
            Assert.Equal("@" + file, parse.GetValue(input)); // not replaced by the file's words, as a response file would be
            Assert.Equal("""{"quoted":"words stay"}""", CliInput.Read(parse, input));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Read_of_a_missing_file_is_an_input_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"noorg-missing-{Guid.NewGuid():N}.json");

        var error = Assert.Throws<CliInputException>(() => CliInput.Read("--input", "@" + missing, TextReader.Null));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Throws<CliInputException>(() => CliInput.Read("--input", "@", TextReader.Null));
        Assert.Contains(missing, CliInput.FileProblem("--input", "@" + missing), StringComparison.Ordinal);
        Assert.Equal(2, CliContext.Outcome(error).ExitCode);
    }

    [Theory]
    [InlineData("tasks create --name n --type t --priority 99", "--priority")]
    [InlineData("tasks create --name n --type t --priority -1", "-1")]
    [InlineData("tasks create --name n --type t --priority 40000", "--priority")]
    [InlineData("tasks list --state 7", "--state")]
    [InlineData("tasks show", "Required argument missing")]
    public void Bad_option_values_do_not_parse(string commandLine, string said)
    {
        var errors = Parse(commandLine.Split(' '));

        Assert.Contains(errors, e => e.Contains(said, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tasks|assign|t-1|")] // an empty agent id
    [InlineData("tasks|show|")]
    [InlineData("tasks|start|t-1|--agent=")]
    [InlineData("agents|show|")]
    [InlineData("agents|show|a b")]
    [InlineData("agents|show|a\u001bb")]
    [InlineData("sagas|show|")]
    public void Invalid_ids_do_not_parse(string arguments)
    {
        var errors = Parse(arguments.Split('|'));

        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.DoesNotContain(e, c => char.IsControl(c)));
    }

    [Fact]
    public void Valid_values_parse()
    {
        Assert.Empty(Parse(["tasks", "create", "--name", "n", "--type", "t", "--priority", "high", "--input", "-"]));
        Assert.Empty(Parse(["tasks", "list", "--state", "Pending", "--priority", "critical"]));
        Assert.Empty(Parse(["agents", "show", "agent-😀-1"]));
    }

    [Fact]
    public void Input_and_validation_errors_exit_2_and_failed_operations_exit_1()
    {
        var validation = new ValidationException("Task t", ["priority: must be one of Low, Medium, High, Critical (0 to 3; got 99)"]);

        Assert.Equal((2, "validation: Task t: priority: must be one of Low, Medium, High, Critical (0 to 3; got 99)."), CliContext.Outcome(validation));
        Assert.Equal(2, CliContext.Outcome(new CliInputException("--meta 'x' is not key=value")).ExitCode);
        Assert.Equal(2, CliContext.Outcome(new ConfigurationValidationException([new SettingError("NOORG_X", "y", "bad")])).ExitCode);
        Assert.Equal((1, "not-found: Task t does not exist."), CliContext.Outcome(new NotFoundException("Task t does not exist.")));
        Assert.Equal(1, CliContext.Outcome(new ConflictException("taken")).ExitCode);
        Assert.Equal(1, CliContext.Outcome(new CliException("cannot reach a NoOrg silo")).ExitCode);
        Assert.StartsWith("the cluster did not answer", CliContext.Outcome(new TimeoutException("slow\n   at Somewhere()")).Message, StringComparison.Ordinal);
        var unexpected = CliContext.Outcome(new InvalidOperationException("boom\n   at Somewhere()"));
        Assert.Equal(1, unexpected.ExitCode);
        Assert.DoesNotContain("   at ", unexpected.Message, StringComparison.Ordinal);
    }

    private static IReadOnlyList<string> Parse(string[] arguments)
    {
        var root = new RootCommand { TasksCommands.Create(), AgentsCommands.Create(), SagasCommands.Create() };
        return [.. root.Parse(arguments, CliContext.Parsing).Errors.Select(e => e.Message)];
    }

    [Fact]
    public void Status_never_shows_a_first_start_later_than_a_listed_silo_started()
    {
        var started = new DateTimeOffset(2026, 12, 2, 13, 18, 16, TimeSpan.Zero);
        StatusCommand.SiloView[] silos = [new("silo", "S127.0.0.1:11111:1", "host", "Active", started, TimeSpan.FromMinutes(2), started)];

        Assert.Equal(started, StatusCommand.FirstStart(started.AddSeconds(1), silos)); // recorded once the silo was up
        Assert.Equal(started.AddDays(-3), StatusCommand.FirstStart(started.AddDays(-3), silos)); // an earlier first start stays
        Assert.Equal(started, StatusCommand.FirstStart(null, silos));
        Assert.Null(StatusCommand.FirstStart(null, []));
    }

    [Theory]
    [InlineData(0, "2026-12-02 13:00:00, now")]
    [InlineData(42, "2026-12-02 13:00:00, 42s ago")]
    [InlineData(4 * 60 + 5, "2026-12-02 13:00:00, 4m ago")]
    [InlineData(3 * 3600, "2026-12-02 13:00:00, 3h ago")]
    [InlineData(2 * 86400 + 60, "2026-12-02 13:00:00, 2d ago")]
    public void Health_figures_say_when_they_were_computed(int secondsBefore, string shown)
    {
        var checkedAt = new DateTimeOffset(2026, 12, 2, 13, 0, 0, TimeSpan.Zero);

        Assert.Equal(shown, HealthCommands.AsOf(checkedAt, checkedAt.AddSeconds(secondsBefore)));
    }

    [Fact]
    public void Waiting_says_what_it_waits_for_once_per_change()
    {
        var now = DateTimeOffset.UtcNow;
        var pending = new NoOrg.Grains.Tasks.TaskSnapshot("t-w", new NoOrg.Grains.Tasks.TaskSpec("n", "echo"), NoOrg.Grains.Tasks.TaskState.Pending,
            null, 0, now, now, null, null, null, null, null, null, [], "no registered agent has capabilities [echo]", 1);
        using var written = new StringWriter();
        var progress = WaitProgress.ForTask("t-w", written);

        progress.Report(pending);
        progress.Report(pending with { Version = 2 }); // nothing new to say
        progress.Report(pending with { State = NoOrg.Grains.Tasks.TaskState.Assigned, AssignedTo = "agent-1", UnassignableReason = null, Version = 3 });
        progress.Report(pending with { State = NoOrg.Grains.Tasks.TaskState.Completed, AssignedTo = "agent-1", UnassignableReason = null, Version = 4 });

        Assert.Equal(
            [
                "waiting for task t-w: pending (no registered agent has capabilities [echo])",
                "waiting for task t-w: assigned on agent-1",
                "waiting for task t-w: completed",
            ],
            written.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Waiting_for_a_saga_names_the_steps_that_move()
    {
        var now = DateTimeOffset.UtcNow;
        NoOrg.Grains.Sagas.SagaStepSnapshot Step(string id, NoOrg.Grains.Sagas.SagaStepPhase phase) => new(id, 0, phase, 1, 0, true, null, null);
        var saga = new NoOrg.Grains.Sagas.SagaSnapshot("s-1", "order", NoOrg.Grains.Sagas.SagaStatus.Running, "{}",
            [Step("reserve", NoOrg.Grains.Sagas.SagaStepPhase.Succeeded), Step("charge", NoOrg.Grains.Sagas.SagaStepPhase.Running)],
            null, null, false, now, now, null, 3);

        Assert.Equal("running (step charge)", WaitProgress.Describe(saga));
        Assert.Equal("compensating (step reserve)", WaitProgress.Describe(saga with
        {
            Status = NoOrg.Grains.Sagas.SagaStatus.Compensating,
            Steps = [Step("reserve", NoOrg.Grains.Sagas.SagaStepPhase.Compensating), Step("charge", NoOrg.Grains.Sagas.SagaStepPhase.Failed)],
        }));
        Assert.Equal("completed", WaitProgress.Describe(saga with { Status = NoOrg.Grains.Sagas.SagaStatus.Completed, Steps = [] }));
    }
}
