using System.Globalization;
using System.Reflection;
using System.Text;

namespace NoOrg.Configuration;

/// <summary>Every configuration key NoOrg binds, derived from the settings classes themselves.</summary>
public static class SettingsCatalog
{
    public sealed record Setting(string Key, string Description, string Default, bool IsSecret, PropertyInfo Property);

    public sealed record Area(string Title, string Prefix, IReadOnlyList<Setting> Settings);

    public static IReadOnlyList<Area> Areas { get; } = NoOrgSettings.AreaTypes.Select(Describe).ToArray();

    public static IEnumerable<string> Keys => Areas.SelectMany(a => a.Settings).Select(s => s.Key);

    /// <summary>Keys NoOrg reads that are not settings of a running cluster (test and tool switches).</summary>
    public static IReadOnlyList<string> OtherKeys { get; } =
        ["NOORG_TEST_POSTGRES", "NOORG_TEST_UPDATE_OPENAPI", "NOORG_TIMEOUTS_CLIENT_CONNECT_SECONDS", "NOORG_SOAK_SECONDS", "NOORG_SOAK_RATE"];

    /// <summary>
    /// The <c>NOORG_*</c> keys among <paramref name="keys"/> that nothing reads (a misspelling is silently ignored
    /// otherwise), each with the nearest real key when one is close.
    /// </summary>
    public static IReadOnlyList<(string Key, string? Nearest)> Unknown(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var known = Keys.Concat(OtherKeys).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. keys
            .Where(k => k.StartsWith("NOORG_", StringComparison.OrdinalIgnoreCase) && !known.Contains(k))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .Select(k => (k, Nearest(k, known)))];
    }

    private static string? Nearest(string key, IEnumerable<string> known)
    {
        var best = known.Select(k => (Key: k, Distance: EditDistance(key.ToUpperInvariant(), k.ToUpperInvariant())))
            .OrderBy(c => c.Distance).ThenBy(c => c.Key, StringComparer.Ordinal).First();
        return best.Distance <= Math.Max(2, key.Length / 4) ? best.Key : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    public static Area Describe(Type type)
    {
        var area = type.GetCustomAttribute<SettingsAreaAttribute>()
            ?? throw new InvalidOperationException($"{type.Name} has no [SettingsArea].");
        var defaults = Activator.CreateInstance(type);
        var settings = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<SettingAttribute>()))
            .Where(p => p.Attribute is not null)
            .Select(p => new Setting(
                $"{area.Prefix}_{p.Attribute!.Name}",
                p.Attribute.Description,
                Format(p.Property.GetValue(defaults)),
                p.Property.GetCustomAttribute<SecretAttribute>() is not null,
                p.Property))
            .ToArray();
        return new Area(area.Title, area.Prefix, settings);
    }

    public static IEnumerable<string> EnumNames(Type type) =>
        Enum.GetNames(type).Select(n => n.ToLowerInvariant());

    public static string Format(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The text of <c>.env.example</c>: every key, grouped by area, with its default and meaning.</summary>
    public static string RenderEnvExample()
    {
        var text = new StringBuilder();
        text.AppendLine("# NoOrg configuration. Every key NoOrg reads, with its default.");
        text.AppendLine("# Copy to .env in the working directory; real environment variables win over .env.");
        text.AppendLine("# Regenerate with: noorg config example > .env.example");
        foreach (var area in Areas)
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"# --- {area.Title} ---");
            foreach (var setting in area.Settings)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"# {setting.Description}");
                text.AppendLine(CultureInfo.InvariantCulture, $"{setting.Key}={setting.Default}");
            }
        }

        return text.ToString();
    }
}
