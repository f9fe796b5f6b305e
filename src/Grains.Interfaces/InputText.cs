using System.Globalization;

namespace NoOrg.Grains;

/// <summary>
/// The character rule for every string a caller hands in, and the id rule. The grains' rule sets (TaskSpecRules,
/// AgentRules, the saga grain) and the client library call the same methods, so both refuse the same input.
/// </summary>
/// <remarks>
/// The databases decide the floor: PostgreSQL refuses NUL (22021 in a key, 22P05 in jsonb) and lone surrogates, SQLite
/// silently replaces lone surrogates. So every string must be well-formed UTF-16 without NUL. Names, types,
/// capabilities, keys and ids (what a terminal shows in a column, and what is matched exactly) may hold no control
/// character at all; free text (descriptions, metadata values, reasons, errors) may hold line breaks, tabs and other
/// controls, and every terminal output escapes them.
/// </remarks>
public static class InputText
{
    /// <summary>Longest id of a task, agent or saga, in UTF-16 code units.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Metadata limits of tasks and agents alike.</summary>
    public const int MaxMetadataEntries = 64;

    public const int MaxMetadataKeyLength = 100;

    public const int MaxMetadataValueLength = 1000;

    /// <summary>Null when <paramref name="json"/> is one well-formed JSON value of storable characters; otherwise what is wrong.</summary>
    public static string? JsonProblem(string field, string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (TextProblem(field, json) is { } characters)
        {
            return characters;
        }

        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(json);
            return null;
        }
        catch (System.Text.Json.JsonException e)
        {
            return $"{field}: not valid JSON ({e.Message})";
        }
    }

    /// <summary>Every problem of a task's or an agent's metadata, as "field: what is wrong", keys in order.</summary>
    public static IEnumerable<string> MetadataProblems(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            yield break;
        }

        if (metadata.Count > MaxMetadataEntries)
        {
            yield return $"metadata: at most {MaxMetadataEntries} entries (got {metadata.Count})";
        }

        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var problem = string.IsNullOrWhiteSpace(key) ? "metadata: keys must be non-blank"
                : key.Length > MaxMetadataKeyLength ? $"metadata: key of {key.Length} characters; at most {MaxMetadataKeyLength} allowed"
                : NameProblem("metadata key", key)
                ?? (value is null ? $"metadata[{key}]: value required (use \"\" for none)"
                : value.Length > MaxMetadataValueLength ? $"metadata[{key}]: at most {MaxMetadataValueLength} characters (got {value.Length})"
                : TextProblem($"metadata[{key}]", value));
            if (problem is not null)
            {
                yield return problem;
            }
        }
    }

    /// <summary>
    /// Null when <paramref name="value"/> (null counts as empty) is free text that can be stored: well-formed UTF-16,
    /// no NUL. Otherwise "field: what is wrong".
    /// </summary>
    public static string? TextProblem(string field, string? value) => CharacterProblem(field, value, controls: false);

    /// <summary>
    /// Null when <paramref name="value"/> (null counts as empty) is fit for a name, type, capability or key: well-formed
    /// UTF-16, no control character (C0, DEL, C1). Otherwise "field: what is wrong".
    /// </summary>
    public static string? NameProblem(string field, string? value) => CharacterProblem(field, value, controls: true);

    /// <summary>
    /// Null when <paramref name="id"/> is a valid id: 1 to <see cref="MaxIdLength"/> characters, none of them
    /// whitespace, control or format characters, well-formed UTF-16. Otherwise "field: what is wrong".
    /// </summary>
    public static string? IdProblem(string field, string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return $"{field}: required (1 to {MaxIdLength} characters)";
        }

        if (id.Length > MaxIdLength)
        {
            return $"{field}: at most {MaxIdLength} characters (got {id.Length})";
        }

        if (CharacterProblem(field, id, controls: true) is { } problem)
        {
            return problem;
        }

        for (var i = 0; i < id.Length; i++)
        {
            var category = char.GetUnicodeCategory(id, i);
            if (char.IsWhiteSpace(id, i) || category == UnicodeCategory.Format)
            {
                return $"{field}: {Describe(id[i])} at position {i} is not allowed in an id (no whitespace, control or format characters)";
            }
        }

        return OrleansKeyProblem(field, id);
    }

    /// <summary>
    /// Orleans' ADO.NET storage reads a string key whose part before the first '+' is a hexadecimal number or a GUID
    /// as a number or GUID key, and stores no string for it (or only the part after the '+'), so the database could not
    /// tell which task, agent or saga a row is: "42", "a1", "cafe", a GUID and "a1+b" are all refused.
    /// </summary>
    private static string? OrleansKeyProblem(string field, string id)
    {
        var plus = id.IndexOf('+', StringComparison.Ordinal);
        var head = plus >= 0 ? id[..plus] : id;
        return long.TryParse(head, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _) || Guid.TryParse(head, out _)
            ? $"{field}: '{id}' would be stored by Orleans as a number or GUID key ('{head}' reads as one), which NoOrg cannot index; " +
              $"give it a prefix, for example '{(field.Contains("agent", StringComparison.OrdinalIgnoreCase) ? "agent" : "id")}-{id}'"
            : null;
    }

    /// <summary>The id when <see cref="IdProblem"/> finds nothing wrong; otherwise a <see cref="Errors.ValidationException"/> naming the field.</summary>
    public static string RequireId(string field, string? id) =>
        IdProblem(field, id) is { } problem ? throw new Errors.ValidationException($"Invalid {field}", [problem]) : id!;

    /// <summary>The first lone surrogate's position, or -1 when <paramref name="value"/> is well-formed UTF-16.</summary>
    public static int LoneSurrogateAt(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The text with NUL and lone surrogates replaced by U+FFFD: for text that cannot be refused (an exception message).</summary>
    public static string Storable(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] == '\0')
            {
                chars[i] = '\uFFFD';
            }
            else if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }

        return new string(chars);
    }

    private static string? CharacterProblem(string field, string? value, bool controls)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var surrogate = LoneSurrogateAt(value);
        for (var i = 0; i < value.Length && (surrogate < 0 || i < surrogate); i++)
        {
            if (value[i] == '\0')
            {
                return $"{field}: {Describe(value[i])} at position {i}; text may not contain NUL";
            }

            if (controls && char.IsControl(value[i]))
            {
                return $"{field}: {Describe(value[i])} at position {i}; names, types, capabilities, keys and ids may not contain control characters";
            }
        }

        return surrogate < 0
            ? null
            : $"{field}: lone surrogate {Describe(value[surrogate])} at position {surrogate}; text must be well-formed UTF-16";
    }

    private static string Describe(char c) => c switch
    {
        '\0' => "NUL (U+0000)",
        '\u001b' => "ESC (U+001B)",
        _ => string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}"),
    };
}
