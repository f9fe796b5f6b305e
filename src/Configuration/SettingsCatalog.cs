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
