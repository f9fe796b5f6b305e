using System.CommandLine;
using System.CommandLine.Parsing;
using NoOrg.Grains;

namespace NoOrg.Cli;

/// <summary>
/// What the command line takes in, checked before anything is sent: ids against the cluster's id rule, enum values
/// by name only, and <c>--input</c> values that may come from a file (<c>@path</c>) or standard input (<c>-</c>).
/// A problem is a <see cref="CliInputException"/> or a parse error: one line, exit code 2.
/// </summary>
internal static class CliInput
{
    /// <summary>
    /// Marks an option whose value <see cref="Read"/> takes from a file (<c>@path</c>) or standard input (<c>-</c>):
    /// says so in its help, and checks at parse time that the file can be found.
    /// </summary>
    public static Option<string> FileOrStdin(this Option<string> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Description += "; @path reads a file, - reads standard input";
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (FileProblem(option.Name, token.Value) is { } problem)
                {
                    result.AddError(problem);
                }
            }
        });
        return option;
    }

    /// <summary>Null unless <paramref name="value"/> is <c>@path</c> of a file that does not exist.</summary>
    public static string? FileProblem(string option, string value) =>
        value.StartsWith('@') && !File.Exists(value[1..])
            ? $"{option}: no file {TerminalText.Escape(value[1..])} (@path reads a file, - reads standard input)"
            : null;

    /// <summary>Adds the id rule (<see cref="InputText.IdProblem"/>) to an argument: every value given must be a valid id.</summary>
    public static Argument<T> Ids<T>(this Argument<T> argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(result => AddIdErrors(result, argument.Name));
        return argument;
    }

    /// <summary>Adds the id rule to an option: every value given must be a valid id.</summary>
    public static Option<T> Ids<T>(this Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => AddIdErrors(result, option.Name));
        return option;
    }

    /// <summary>
    /// Accepts only the enum's names (any case): System.CommandLine would also take numbers, so "--priority 99"
    /// would reach the cluster as a priority that does not exist.
    /// </summary>
    public static Option<T> Names<T, TEnum>(this Option<T> option)
        where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => AddEnumErrors<TEnum>(result, option.Name));
        return option;
    }

    /// <summary>Like <see cref="Names{T, TEnum}(Option{T})"/>, for an argument.</summary>
    public static Argument<T> Names<T, TEnum>(this Argument<T> argument)
        where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(result => AddEnumErrors<TEnum>(result, argument.Name));
        return argument;
    }

    /// <summary>Null when <paramref name="value"/> is one of <typeparamref name="TEnum"/>'s names; otherwise what is allowed.</summary>
    public static string? EnumProblem<TEnum>(string what, string value)
        where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().Any(n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase))
            ? null
            : $"{what}: '{TerminalText.Escape(value)}' is not one of {string.Join(", ", Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()))}";

    /// <summary>
    /// The text an input option stands for: <c>@path</c> is the file's content, <c>-</c> is all of
    /// <paramref name="stdin"/>, anything else is itself.
    /// </summary>
    public static string Read(string option, string value, TextReader stdin)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(stdin);
        if (value == "-")
        {
            return stdin.ReadToEnd();
        }

        if (!value.StartsWith('@'))
        {
            return value;
        }

        var path = value[1..];
        if (path.Length == 0)
        {
            throw new CliInputException($"{option}: '@' needs a file name (@path), or use - for standard input");
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliInputException($"{option}: cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary><see cref="Read"/> of an option's value, standard input being the console's.</summary>
    public static string Read(ParseResult parse, Option<string> option)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(option);
        return Read(option.Name, parse.GetValue(option)!, Console.In);
    }

    /// <summary><see cref="Read(ParseResult, Option{string})"/> of a JSON option, checked here so that bad JSON is never sent.</summary>
    public static string ReadJson(ParseResult parse, Option<string> option)
    {
        var json = Read(parse, option);
        return InputText.JsonProblem(option.Name, json) is { } problem ? throw new CliInputException(problem) : json;
    }

    private static void AddIdErrors(SymbolResult result, string name)
    {
        foreach (var token in result.Tokens)
        {
            if (InputText.IdProblem(name, token.Value) is { } problem)
            {
                result.AddError(TerminalText.Escape(problem));
            }
        }
    }

    private static void AddEnumErrors<TEnum>(SymbolResult result, string name)
        where TEnum : struct, Enum
    {
        foreach (var token in result.Tokens)
        {
            if (EnumProblem<TEnum>(name, token.Value) is { } problem)
            {
                result.AddError(problem);
            }
        }
    }
}

/// <summary>The command line or its input is wrong (an unreadable file, a malformed key=value): exit code 2.</summary>
internal sealed class CliInputException(string message, Exception? inner = null) : Exception(message, inner);
