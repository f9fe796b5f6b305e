using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using NoOrg.Configuration;
using Spectre.Console;

namespace NoOrg.Cli;

/// <summary>What every command shares: global options, configuration, output in table or JSON form, and exit codes.</summary>
internal static class CliContext
{
    public const int Ok = 0;

    /// <summary>The operation was tried and failed (refused by the cluster, not reachable, a task that failed).</summary>
    public const int Failed = 1;
    public const int BadConfiguration = 2;

    /// <summary>
    /// What was asked is wrong, whoever noticed: a command line that does not parse (unknown command or option, bad
    /// value, invalid id), input that cannot be read, or a validation error from the cluster.
    /// </summary>
    public const int BadUsage = 2;

    /// <summary>
    /// How every command line is parsed. Response files are off: System.CommandLine would replace an <c>@path</c>
    /// token by the file's words, and <c>--input @path</c> means the file's content as is (<see cref="CliInput.Read(string, string, TextReader)"/>).
    /// </summary>
    public static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    public static readonly Option<bool> Json = new("--json") { Description = "Write machine-readable JSON to standard output", Recursive = true };
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Show Orleans client logs on standard error", Recursive = true };

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Quotes, <, > and non-ASCII text as they are ("a \"b\"", not \u0022); control characters are still escaped.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Runs a command body with one error policy: a one-line message on standard error and an exit code (<see cref="Outcome"/>).</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(Func<ParseResult, NoOrgSettings, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            try
            {
                var settings = NoOrgSettings.Load(NoOrgConfiguration.Build());
                return await body(parse, settings, cancellationToken);
            }
            catch (Exception e)
            {
                var (exitCode, message) = Outcome(e);
                if (parse.GetValue(Verbose))
                {
                    await Console.Error.WriteLineAsync(e.ToString());
                }

                return Fail(parse, message, exitCode);
            }
        };

    /// <summary>
    /// The exit code and message for what a command threw: input and validation errors exit 2, failed operations 1,
    /// and nothing ever ends in a stack trace (--verbose adds it on standard error).
    /// </summary>
    public static (int ExitCode, string Message) Outcome(Exception error) => error switch
    {
        ConfigurationValidationException e => (BadConfiguration, e.Message),
        CliInputException e => (BadUsage, e.Message),
        NoOrg.Grains.Errors.ValidationException e => (BadUsage, $"{e.Code}: {e.Message}"),
        NoOrg.Grains.Errors.NoOrgException e => (Failed, $"{e.Code}: {e.Message}"),
        CliException e => (Failed, e.Message),
        NoOrg.Storage.StorageException e => (Failed, e.Message),
        OperationCanceledException => (Failed, "cancelled"),
        OrleansException or TimeoutException => (Failed, $"the cluster did not answer: {error.GetType().Name}: {FirstLine(error.Message)}"),
        _ => (Failed, $"unexpected {error.GetType().Name}: {FirstLine(error.Message)} (--verbose shows where)"),
    };

    public static int Fail(ParseResult parse, string message, int exitCode)
    {
        if (parse.GetValue(Json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { error = message, exitCode }, JsonOptions));
        }

        // Line by line: a configuration error lists one problem a line; anything else in a line is escaped.
        Console.Error.WriteLine($"noorg: {string.Join(Environment.NewLine, message.Split('\n').Select(l => TerminalText.Escape(l.TrimEnd('\r'))))}");
        return exitCode;
    }

    /// <summary>Writes <paramref name="data"/> as JSON when --json was given, otherwise calls <paramref name="render"/>.</summary>
    public static void Write<T>(ParseResult parse, T data, Action<T> render)
    {
        if (parse.GetValue(Json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(data, JsonOptions));
        }
        else
        {
            render(data);
        }
    }

    /// <summary>
    /// Where tables and text go. On a pipe or in a file nothing knows a width, so lines are not wrapped at 80 columns
    /// (which splits words and rows); each row stays one line for grep and cut.
    /// </summary>
    public static IAnsiConsole Terminal { get; } = CreateTerminal();

    /// <summary>Width of a table written to a pipe: wide enough that no row of NoOrg's tables wraps.</summary>
    internal const int PipeWidth = 4096;

    private static IAnsiConsole CreateTerminal()
    {
        if (!Console.IsOutputRedirected)
        {
            return AnsiConsole.Console;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        console.Profile.Width = PipeWidth;
        return console;
    }

    /// <summary>Who an operator's change is recorded as, in task and agent histories.</summary>
    public static string Actor => $"cli:{Environment.UserName}";

    /// <summary>A command body that needs a connected cluster client.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Connected(Func<ParseResult, IClusterClient, CancellationToken, Task<int>> body) =>
        Run(async (parse, settings, cancellationToken) =>
        {
            await using var connection = await ClusterConnection.OpenAsync(settings, parse.GetValue(Verbose), cancellationToken);
            return await body(parse, connection.Client, cancellationToken);
        });

    /// <summary>
    /// A command body that needs a connected cluster client and input read first: <paramref name="prepare"/> reads and
    /// checks what the command line names (files, JSON, key=value lists) before anything connects, so bad input exits 2
    /// at once, with or without a cluster.
    /// </summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Connected<TInput>(
        Func<ParseResult, TInput> prepare, Func<ParseResult, TInput, IClusterClient, CancellationToken, Task<int>> body) =>
        Run(async (parse, settings, cancellationToken) =>
        {
            var input = prepare(parse);
            await using var connection = await ClusterConnection.OpenAsync(settings, parse.GetValue(Verbose), cancellationToken);
            return await body(parse, input, connection.Client, cancellationToken);
        });

    /// <summary>The typed client over a command's connection; changes are recorded as <see cref="Actor"/>.</summary>
    public static NoOrg.Client.INoOrgClient Api(IClusterClient client) => NoOrg.Client.NoOrgClientExtensions.AsNoOrgClient(client, Actor);

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, JsonOptions);

    /// <summary>
    /// Writes each change until stopped. A watch of all that may have missed changes says so on standard error and
    /// watches again, so an operator knows to list rather than trust the gap.
    /// </summary>
    public static async Task<int> WatchAsync<T>(Func<CancellationToken, IAsyncEnumerable<T>> watch, Func<T, string> line, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in watch(cancellationToken))
                {
                    await Console.Out.WriteLineAsync(line(change));
                }
            }
            catch (NoOrg.Grains.Errors.WatchGapException gap)
            {
                await Console.Error.WriteLineAsync($"warning: {gap.Message}; watching again (list to see the current state)");
            }
        }

        return Ok;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd('\r');
}

/// <summary>A failure the user can act on; its message is printed as is.</summary>
internal sealed class CliException(string message, Exception? inner = null) : Exception(message, inner);
