using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// What a valid task spec looks like, and the canonical hash that makes a repeated create recognisable. The limits
/// are those of what stores and serves a task: the character rule of <see cref="InputText"/> (the databases), the
/// capability limits of the agent index (<see cref="AgentRules"/>: dispatch looks candidates up with them), the
/// priority enum (the index's projection refuses other values), the input cap of the settings.
/// </summary>
internal static class TaskSpecRules
{
    public const int MaxNameLength = 200;
    public const int MaxTypeLength = 100;
    public const int MaxDescriptionLength = 4000;
    public const int MaxAttemptsLimit = 100;
    public const int MaxMetadataEntries = InputText.MaxMetadataEntries;
    public const int MaxMetadataKeyLength = InputText.MaxMetadataKeyLength;
    public const int MaxMetadataValueLength = InputText.MaxMetadataValueLength;
    public const int MaxActorLength = 200;
    public const int MaxErrorLength = 4000;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(365);

    /// <summary>Every problem with the spec's own fields, each as "field: what is wrong and what is allowed".</summary>
    public static List<string> Problems(string id, TaskSpec spec, TasksSettings limits, DateTimeOffset now)
    {
        var problems = new List<string>();
        Add(problems, InputText.IdProblem("id", id));
        Length(problems, "name", spec.Name, 1, MaxNameLength);
        Length(problems, "type", spec.Type, 1, MaxTypeLength);
        if ((spec.Description ?? "").Length > MaxDescriptionLength)
        {
            problems.Add($"description: at most {MaxDescriptionLength} characters (got {spec.Description!.Length})");
        }

        Add(problems, InputText.TextProblem("description", spec.Description));
        Add(problems, JsonProblem("inputJson", spec.InputJson, limits.MaxInputBytes));
        Add(problems, PriorityProblem(spec.Priority));
        if (spec.MaxAttempts is < 1 or > MaxAttemptsLimit)
        {
            problems.Add($"maxAttempts: must be 1 to {MaxAttemptsLimit} (got {spec.MaxAttempts})");
        }

        if (spec.Timeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > MaxTimeout))
        {
            problems.Add($"timeout: must be more than 0 and at most {MaxTimeout.TotalDays:0} days when set (got {timeout})");
        }

        if (spec.RetryBackoff is { } backoff && backoff < TimeSpan.Zero)
        {
            problems.Add($"retryBackoff: must be 0 or more when set (got {backoff})");
        }

        if (spec.Deadline is { } deadline && DeadlineProblem(deadline, now) is { } late)
        {
            problems.Add(late);
        }

        problems.AddRange(CapabilityProblems(spec.RequiredCapabilities));
        problems.AddRange(MetadataProblems(spec.Metadata));
        var dependsOn = spec.DependsOn ?? [];
        for (var i = 0; i < dependsOn.Count; i++)
        {
            Add(problems, InputText.IdProblem($"dependsOn[{i}]", dependsOn[i]));
        }

        if (spec.ParentId is { } parent)
        {
            Add(problems, InputText.IdProblem("parentId", parent));
        }

        if (spec.IdempotencyKey is { } key)
        {
            Add(problems, key.Length > InputText.MaxIdLength
                ? $"idempotencyKey: at most {InputText.MaxIdLength} characters (got {key.Length})"
                : InputText.NameProblem("idempotencyKey", key));
        }

        return problems;
    }

    /// <summary>Every problem with the fields an update sets; the merged metadata is checked by <see cref="MetadataProblems"/>.</summary>
    public static List<string> UpdateProblems(TaskUpdate update, DateTimeOffset now)
    {
        var problems = new List<string>();
        if (update.Name is not null)
        {
            Length(problems, "name", update.Name, 1, MaxNameLength);
        }

        if (update.Description is { Length: > MaxDescriptionLength })
        {
            problems.Add($"description: at most {MaxDescriptionLength} characters (got {update.Description.Length})");
        }

        Add(problems, InputText.TextProblem("description", update.Description));
        if (update.Priority is { } priority)
        {
            Add(problems, PriorityProblem(priority));
        }

        if (update.Deadline is { } deadline && DeadlineProblem(deadline, now) is { } late)
        {
            problems.Add(late);
        }

        return problems;
    }

    /// <summary>
    /// Required capabilities as the agent index takes them: at most <see cref="AgentRules.MaxRequiredCapabilities"/>, each
    /// non-blank, at most <see cref="AgentRules.MaxCapabilityLength"/> characters, no control characters. A spec
    /// outside these would be stored but could never be looked up by dispatch.
    /// </summary>
    public static IEnumerable<string> CapabilityProblems(IReadOnlyList<string>? capabilities)
    {
        if (capabilities is null)
        {
            yield break;
        }

        if (capabilities.Count > AgentRules.MaxRequiredCapabilities)
        {
            yield return $"requiredCapabilities: at most {AgentRules.MaxRequiredCapabilities} (got {capabilities.Count})";
        }

        for (var i = 0; i < capabilities.Count; i++)
        {
            var capability = capabilities[i];
            var problem = string.IsNullOrWhiteSpace(capability) ? $"requiredCapabilities[{i}]: must be a non-blank name"
                : capability.Trim().Length > AgentRules.MaxCapabilityLength
                    ? $"requiredCapabilities[{i}]: at most {AgentRules.MaxCapabilityLength} characters (got {capability.Trim().Length})"
                : InputText.NameProblem($"requiredCapabilities[{i}]", capability);
            if (problem is not null)
            {
                yield return problem;
            }
        }
    }

    public static string? PriorityProblem(TaskPriority priority) =>
        Enum.IsDefined(priority) ? null
        : $"priority: must be one of {string.Join(", ", Enum.GetNames<TaskPriority>())} (0 to {Enum.GetValues<TaskPriority>().Length - 1}; got {(int)priority})";

    public static string? DeadlineProblem(DateTimeOffset deadline, DateTimeOffset now) =>
        deadline <= now ? $"deadline: must be in the future (got {deadline:O}, now is {now:O})" : null;

    public static IEnumerable<string> MetadataProblems(IReadOnlyDictionary<string, string>? metadata) => InputText.MetadataProblems(metadata);

    /// <summary>Null when <paramref name="json"/> is valid JSON of at most <paramref name="maxBytes"/> UTF-8 bytes.</summary>
    public static string? JsonProblem(string field, string? json, int maxBytes)
    {
        if (json is null)
        {
            return $"{field}: required; use \"null\" for none";
        }

        var bytes = Encoding.UTF8.GetByteCount(json);
        return bytes > maxBytes
            ? $"{field}: {bytes} bytes of UTF-8 is too large; at most {maxBytes} allowed (NOORG_TASKS_MAX_INPUT_BYTES)"
            : InputText.JsonProblem(field, json);
    }

    /// <summary>A required short text (actor, agent id, reason): non-blank, bounded, storable (<see cref="InputText.TextProblem"/>).</summary>
    public static string? TextProblem(string field, string? value, int max = MaxActorLength) =>
        string.IsNullOrWhiteSpace(value) ? $"{field}: required (1 to {max} characters)"
        : value.Length > max ? $"{field}: at most {max} characters (got {value.Length})"
        : InputText.TextProblem(field, value);

    /// <summary>
    /// Text from inside (an exception message) made storable: at most <paramref name="max"/> characters and an
    /// ellipsis, never cutting a surrogate pair in two, NUL and lone surrogates replaced by U+FFFD.
    /// </summary>
    public static string Shorten(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cut = text.Length <= max ? text : text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)] + "…";
        return InputText.TextProblem("text", cut) is null ? cut : InputText.Storable(cut);
    }

    /// <summary>
    /// SHA-256 over a canonical form of the spec: fields in a fixed order, lists of capabilities and dependencies
    /// sorted (their order carries no meaning), metadata sorted by key. Equal content gives equal hashes.
    /// </summary>
    public static string Hash(TaskSpec spec)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            WriteText(writer, spec.Name);
            WriteText(writer, spec.Type);
            WriteText(writer, spec.Description);
            WriteText(writer, spec.InputJson);
            writer.WriteNumberValue((int)spec.Priority);
            WriteSorted(writer, spec.RequiredCapabilities);
            WriteSorted(writer, spec.DependsOn);
            WriteText(writer, spec.ParentId);
            writer.WriteStringValue(spec.Timeout?.Ticks.ToString(CultureInfo.InvariantCulture));
            writer.WriteNumberValue(spec.MaxAttempts);
            writer.WriteStringValue(spec.RetryBackoff?.Ticks.ToString(CultureInfo.InvariantCulture));
            writer.WriteStringValue(spec.Deadline?.UtcTicks.ToString(CultureInfo.InvariantCulture));
            WriteText(writer, spec.IdempotencyKey);
            writer.WriteStartArray();
            foreach (var (key, value) in (spec.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                WriteText(writer, key);
                WriteText(writer, value);
            }

            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>A name-like field: bounded, not blank, no control characters.</summary>
    private static void Length(List<string> problems, string field, string? value, int min, int max)
    {
        var length = value?.Length ?? 0;
        if (length < min || length > max || string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{field}: must be {min} to {max} characters and not blank (got {length})");
        }
        else
        {
            Add(problems, InputText.NameProblem(field, value));
        }
    }

    private static void Add(List<string> problems, string? problem)
    {
        if (problem is not null)
        {
            problems.Add(problem);
        }
    }

    private static void WriteSorted(Utf8JsonWriter writer, IReadOnlyList<string>? values)
    {
        writer.WriteStartArray();
        foreach (var value in (values ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            WriteText(writer, value);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// A string as JSON text; one that is not well-formed UTF-16 (which JSON cannot hold) as the array of its code
    /// units, so hashing an invalid spec gives a hash no valid spec has instead of throwing.
    /// </summary>
    private static void WriteText(Utf8JsonWriter writer, string? value)
    {
        if (value is null || InputText.LoneSurrogateAt(value) < 0)
        {
            writer.WriteStringValue(value);
            return;
        }

        writer.WriteStartArray();
        foreach (var unit in value)
        {
            writer.WriteNumberValue(unit);
        }

        writer.WriteEndArray();
    }
}
