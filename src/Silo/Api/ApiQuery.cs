using NoOrg.Grains.Errors;

namespace NoOrg.Silo.Api;

/// <summary>
/// Enum filters of a query string, read by name with every problem collected (<c>state: 'done' is not one of
/// pending, ...</c>), then one <see cref="ValidationException"/>: the same rule as the grains' own validators.
/// Numbers and dates are bound by the framework (a wrong one is a 400 too).
/// </summary>
internal sealed class ApiQuery
{
    private readonly List<string> problems = [];

    public IReadOnlyList<T>? Enums<T>(string name, string[]? values) where T : struct, Enum =>
        values is { Length: > 0 } ? values.Select(v => Parse<T>(name, v)).OfType<T>().ToArray() : null;

    public T? Enum<T>(string name, string? value) where T : struct, Enum => string.IsNullOrEmpty(value) ? null : Parse<T>(name, value);

    /// <summary>Null for no values, so "no filter" and "empty filter" are the same.</summary>
    public static IReadOnlyList<string>? Strings(string[]? values) => values is { Length: > 0 } ? values : null;

    public void Check(bool condition, string problem)
    {
        if (!condition)
        {
            problems.Add(problem);
        }
    }

    /// <summary>Throws when any value read so far was wrong.</summary>
    public void ThrowIfInvalid()
    {
        if (problems.Count > 0)
        {
            throw new ValidationException("Invalid query", problems);
        }
    }

    private T? Parse<T>(string name, string value) where T : struct, Enum
    {
        // Names only: Enum.TryParse also takes "7" and would make a value no record has.
        if (!value.All(char.IsAsciiDigit) && System.Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && System.Enum.IsDefined(parsed))
        {
            return parsed;
        }

        problems.Add($"{name}: '{value}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => char.ToLowerInvariant(n[0]) + n[1..]))}");
        return null;
    }
}
