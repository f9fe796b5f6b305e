using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using NoOrg.Grains;
using NoOrg.Grains.Errors;

namespace NoOrg.Client;

/// <summary>
/// Refuses a call whose text arguments are not well-formed UTF-16 before it leaves the client. The grains check every
/// other rule themselves, but this one they cannot: the wire carries strings as UTF-8, so a lone surrogate arrives
/// as U+FFFD and the grain would store altered text. Looks into strings, string lists and maps, and the string
/// properties of NoOrg's own wire records (a task spec, an agent registration...).
/// </summary>
internal sealed class WellFormedTextFilter : IOutgoingGrainCallFilter
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> TextProperties = new();

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        List<string>? problems = null;
        for (var i = 0; i < context.Request.GetArgumentCount(); i++)
        {
            Check(context.Request.GetArgument(i), $"argument {i}", ref problems, depth: 0);
        }

        return problems is null
            ? context.Invoke()
            : throw new ValidationException($"{context.InterfaceName}.{context.MethodName} was not sent", problems);
    }

    private static void Check(object? value, string field, ref List<string>? problems, int depth)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                if (InputText.LoneSurrogateAt(text) >= 0)
                {
                    (problems ??= []).Add(InputText.TextProblem(field, text) ?? $"{field}: not well-formed UTF-16");
                }

                return;
            case IEnumerable<KeyValuePair<string, string>> map:
                foreach (var (key, item) in map)
                {
                    Check(key, $"{field} key", ref problems, depth);
                    Check(item, $"{field}[{key}]", ref problems, depth);
                }

                return;
            case IEnumerable<string> texts:
                var index = 0;
                foreach (var text in texts)
                {
                    Check(text, $"{field}[{index++}]", ref problems, depth);
                }

                return;
            case IEnumerable:
                return;
        }

        var type = value.GetType();
        if (depth > 0 || type.Namespace?.StartsWith("NoOrg.", StringComparison.Ordinal) != true)
        {
            return;
        }

        foreach (var property in TextProperties.GetOrAdd(type, Texts))
        {
            Check(property.GetValue(value), CamelCase(property.Name), ref problems, depth + 1);
        }
    }

    private static PropertyInfo[] Texts(Type type) =>
    [
        .. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p =>
            p.GetIndexParameters().Length == 0
            && (p.PropertyType == typeof(string) || typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType)
                || typeof(IEnumerable<KeyValuePair<string, string>>).IsAssignableFrom(p.PropertyType))),
    ];

    private static string CamelCase(string name) => string.Concat(name[..1].ToLowerInvariant(), name[1..]);
}
