using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using NoOrg.Grains;

namespace NoOrg.Silo.Api;

/// <summary>
/// How the API reads and writes the contract records: web defaults, enums as camelCase names (as <c>noorg --json</c>
/// writes them), strict reading, and the text rules the grains cannot check once the text is a .NET string.
/// </summary>
internal static class ApiJson
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> TextProperties = new();

    public static void Configure(JsonSerializerOptions options)
    {
        // A missing required field or a null where the record says "never null" is a 400 here, not a null in a grain.
        options.RespectRequiredConstructorParameters = true;
        options.RespectNullableAnnotations = true;
        options.AllowDuplicateProperties = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        // A callback, not converters: custom converters would leave the OpenAPI schemas of these fields empty.
        options.TypeInfoResolver = JsonTypeInfoResolver.Combine(new StructDefaultRecords(), options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
            .WithAddedModifier(CheckTextAfterReading);
    }

    private static void CheckTextAfterReading(JsonTypeInfo info)
    {
        if (info.Kind == JsonTypeInfoKind.Object && info.Type.Namespace?.StartsWith("NoOrg.", StringComparison.Ordinal) == true)
        {
            info.OnDeserialized = Check;
        }
    }

    /// <summary>
    /// A lone surrogate (<c>"\ud800"</c>) is valid JSON but no database stores it as sent; a null inside a list or a
    /// map has no meaning in any record. Either is a <see cref="JsonException"/>, so the request gets a 400.
    /// </summary>
    private static void Check(object value)
    {
        foreach (var property in TextProperties.GetOrAdd(value.GetType(), TextPropertiesOf))
        {
            var field = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            switch (property.GetValue(value))
            {
                case string text:
                    CheckText(field, text);
                    break;
                case IDictionary map:
                    foreach (DictionaryEntry entry in map)
                    {
                        CheckText(field, (string)entry.Key);
                        CheckText($"{field}[{entry.Key}]", entry.Value as string ?? throw new JsonException($"{field}[{entry.Key}]: a string, not null"));
                    }

                    break;
                case IEnumerable<string> items:
                    var i = 0;
                    foreach (var item in items)
                    {
                        CheckText($"{field}[{i++}]", item ?? throw new JsonException($"{field}[{i - 1}]: a string, not null"));
                    }

                    break;
            }
        }
    }

    private static void CheckText(string field, string text)
    {
        if (InputText.LoneSurrogateAt(text) is var at and >= 0)
        {
            throw new JsonException($"{field}: lone surrogate at position {at}; send well-formed UTF-16 (a \\ud83d\\ude00 pair, or the character itself)");
        }
    }

    private static PropertyInfo[] TextPropertiesOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead
                && (p.PropertyType == typeof(string) || typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType)
                    || typeof(IReadOnlyDictionary<string, string>).IsAssignableFrom(p.PropertyType)))
            .ToArray();

    /// <summary>
    /// Records with a struct parameter defaulted to <c>default</c> (<c>RateLimitPolicy(..., TimeSpan QueueTimeout = default)</c>)
    /// break .NET 10's JSON schema exporter, which writes that default as null. They are read through their
    /// properties instead of their constructor: the same fields, the same names, required where the constructor
    /// has no default.
    /// </summary>
    private sealed class StructDefaultRecords : IJsonTypeInfoResolver
    {
        private static readonly NullabilityInfoContext Nullability = new();

        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
        {
            if (type.Namespace?.StartsWith("NoOrg.", StringComparison.Ordinal) != true || type.IsValueType
                || type.GetConstructors() is not [var constructor]
                || !constructor.GetParameters().Any(p => p.HasDefaultValue && p.DefaultValue is null && p.ParameterType.IsValueType && Nullable.GetUnderlyingType(p.ParameterType) is null))
            {
                return null;
            }

            var parameters = constructor.GetParameters();
            var defaults = parameters.Select(p => p.HasDefaultValue && p.DefaultValue is not null ? p.DefaultValue
                : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray();
            var info = JsonTypeInfo.CreateJsonTypeInfo(type, options);
            info.CreateObject = () => constructor.Invoke(defaults);
            foreach (var parameter in parameters)
            {
                var property = type.GetProperty(parameter.Name!)!;
                var json = info.CreateJsonPropertyInfo(property.PropertyType, options.PropertyNamingPolicy?.ConvertName(property.Name) ?? property.Name);
                json.Get = property.GetValue;
                json.Set = property.SetValue;
                json.IsRequired = !parameter.HasDefaultValue;
                json.IsSetNullable = json.IsGetNullable = Nullability.Create(property).WriteState != NullabilityState.NotNull;
                info.Properties.Add(json);
            }

            return info;
        }
    }
}
