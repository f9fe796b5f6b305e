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
    public const int Failed = 1;
    public const int BadConfiguration = 2;

    /// <summary>A command line that does not parse (unknown command or option, missing argument, bad value).</summary>
    public const int BadUsage = 2;

    public static readonly Option<bool> Json = new("--json") { Description = "Write machine-readable JSON to standard output", Recursive = true };
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Show Orleans client logs on standard error", Recursive = true };

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Runs a command body with one error policy: a message on standard error and a non-zero exit code.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(Func<ParseResult, NoOrgSettings, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            NoOrgSettings settings;
            try
            {
                settings = NoOrgSettings.Load(NoOrgConfiguration.Build());
            }
            catch (ConfigurationValidationException e)
            {
                return Fail(parse, e.Message, BadConfiguration);
            }

            try
            {
                return await body(parse, settings, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail(parse, "cancelled", Failed);
            }
            catch (CliException e)
            {
                return Fail(parse, e.Message, Failed);
            }
            catch (NoOrg.Storage.StorageException e)
            {
                return Fail(parse, e.Message, Failed);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return Fail(parse, $"the cluster did not answer: {e.GetType().Name}: {e.Message.Split(Environment.NewLine)[0]}", Failed);
            }
        };

    public static int Fail(ParseResult parse, string message, int exitCode)
    {
        if (parse.GetValue(Json))
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(new { error = message, exitCode }, JsonOptions));
        }

        Console.Error.WriteLine($"noorg: {message}");
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

    public static IAnsiConsole Terminal { get; } = AnsiConsole.Console;

    /// <summary>Who an operator's change is recorded as, in task and agent histories.</summary>
    public static string Actor => $"cli:{Environment.UserName}";

    /// <summary>A command body that needs a connected cluster client.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Connected(Func<ParseResult, IClusterClient, CancellationToken, Task<int>> body) =>
        Run(async (parse, settings, cancellationToken) =>
        {
            await using var connection = await ClusterConnection.OpenAsync(settings, parse.GetValue(Verbose), cancellationToken);
            try
            {
                return await body(parse, connection.Client, cancellationToken);
            }
            catch (NoOrg.Grains.Errors.NoOrgException e)
            {
                return Fail(parse, $"{e.Code}: {e.Message}", Failed);
            }
        });

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, JsonOptions);
}

/// <summary>A failure the user can act on; its message is printed as is.</summary>
internal sealed class CliException(string message, Exception? inner = null) : Exception(message, inner);
