using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace NoOrg.Configuration;

/// <summary>
/// Reads one settings area from configuration. Unlike the framework binder it never stops at the first
/// bad value: every problem is collected so the operator can fix them all in one go.
/// </summary>
public static class SettingsBinder
{
    public static T Bind<T>(IConfiguration configuration, ICollection<SettingError> errors) where T : new()
    {
        var settings = new T();
        foreach (var setting in SettingsCatalog.Describe(typeof(T)).Settings)
        {
            var raw = configuration[setting.Key];
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue; // unset or empty means the default
            }

            raw = raw.Trim();
            var shown = setting.IsSecret ? "***" : raw;
            if (!TryParse(setting.Property.PropertyType, raw, out var value, out var expected))
            {
                errors.Add(new SettingError(setting.Key, shown, expected));
                continue;
            }

            if (Check(setting.Property, value) is { } problem)
            {
                errors.Add(new SettingError(setting.Key, shown, problem));
                continue;
            }

            setting.Property.SetValue(settings, value);
        }

        return settings;
    }

    private static bool TryParse(Type type, string raw, out object? value, out string expected)
    {
        value = null;
        expected = "";
        if (type == typeof(string))
        {
            value = raw;
            return true;
        }

        if (type == typeof(bool))
        {
            expected = "expected a boolean: true, false, 1, 0, yes or no";
            value = raw.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => null,
            };
            return value is not null;
        }

        if (type == typeof(int))
        {
            expected = "expected a whole number";
            var ok = int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number);
            value = number;
            return ok;
        }

        if (type == typeof(double))
        {
            expected = "expected a number (use '.' as the decimal point)";
            var ok = double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number);
            value = number;
            return ok;
        }

        if (type.IsEnum)
        {
            expected = $"expected one of: {string.Join(", ", SettingsCatalog.EnumNames(type))}";
            var normalized = raw.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
            var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(n, normalized, StringComparison.OrdinalIgnoreCase));
            value = match is null ? null : Enum.Parse(type, match);
            return value is not null;
        }

        throw new NotSupportedException($"Settings of type {type.Name} are not supported.");
    }

    private static string? Check(PropertyInfo property, object? value)
    {
        if (property.GetCustomAttribute<RangeAttribute>() is { } range && !range.IsValid(value))
        {
            return $"must be between {range.Minimum} and {range.Maximum}";
        }

        if (property.GetCustomAttribute<HttpUrlAttribute>() is not null && value is string url
            && !IsHttpUrl(url))
        {
            return "expected an absolute http:// or https:// URL";
        }

        return null;
    }

    public static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
