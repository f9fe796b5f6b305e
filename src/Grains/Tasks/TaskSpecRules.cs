using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NoOrg.Configuration;

namespace NoOrg.Grains.Tasks;

/// <summary>What a valid task spec looks like, and the canonical hash that makes a repeated create recognisable.</summary>
internal static class TaskSpecRules
{
    public const int MaxNameLength = 200;
    public const int MaxTypeLength = 100;
    public const int MaxDescriptionLength = 4000;
    public const int MaxAttemptsLimit = 100;
    public const int MaxMetadataEntries = 64;
    public const int MaxActorLength = 200;
    public const int MaxErrorLength = 4000;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(365);

    /// <summary>Every problem with the spec's own fields, each as "field: what is wrong and what is allowed".</summary>
    public static List<string> Problems(TaskSpec spec, TasksSettings limits, DateTimeOffset now)
    {
        var problems = new List<string>();
        Length(problems, "name", spec.Name, 1, MaxNameLength);
        Length(problems, "type", spec.Type, 1, MaxTypeLength);
        if ((spec.Description ?? "").Length > MaxDescriptionLength)
        {
            problems.Add($"description: at most {MaxDescriptionLength} characters (got {spec.Description!.Length})");
        }

        if (JsonProblem("inputJson", spec.InputJson, limits.MaxInputBytes) is { } input)
        {
            problems.Add(input);
        }

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

        if (spec.RequiredCapabilities?.Any(string.IsNullOrWhiteSpace) == true)
        {
            problems.Add("requiredCapabilities: every capability must be a non-blank name");
        }

        problems.AddRange(MetadataProblems(spec.Metadata));
        if (spec.DependsOn?.Any(string.IsNullOrWhiteSpace) == true)
        {
            problems.Add("dependsOn: every dependency must be a non-blank task id");
        }

        if (spec.ParentId is { } parent && string.IsNullOrWhiteSpace(parent))
        {
            problems.Add("parentId: must be a task id or null");
        }

        return problems;
    }

    public static string? DeadlineProblem(DateTimeOffset deadline, DateTimeOffset now) =>
        deadline <= now ? $"deadline: must be in the future (got {deadline:O}, now is {now:O})" : null;

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

        if (metadata.Keys.Any(string.IsNullOrWhiteSpace))
        {
            yield return "metadata: keys must be non-blank";
        }
    }

    /// <summary>Null when <paramref name="json"/> is valid JSON of at most <paramref name="maxBytes"/> UTF-8 bytes.</summary>
    public static string? JsonProblem(string field, string? json, int maxBytes)
    {
        if (json is null)
        {
            return $"{field}: required; use \"null\" for none";
        }

        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > maxBytes)
        {
            return $"{field}: {bytes} bytes of UTF-8 is too large; at most {maxBytes} allowed (NOORG_TASKS_MAX_INPUT_BYTES)";
        }

        try
        {
            using var _ = JsonDocument.Parse(json);
            return null;
        }
        catch (JsonException e)
        {
            return $"{field}: not valid JSON ({e.Message})";
        }
    }

    public static string? TextProblem(string field, string? value, int max = MaxActorLength) =>
        string.IsNullOrWhiteSpace(value) ? $"{field}: required (1 to {max} characters)"
        : value.Length > max ? $"{field}: at most {max} characters (got {value.Length})"
        : null;

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
            writer.WriteStringValue(spec.Name);
            writer.WriteStringValue(spec.Type);
            writer.WriteStringValue(spec.Description);
            writer.WriteStringValue(spec.InputJson);
            writer.WriteNumberValue((int)spec.Priority);
            WriteSorted(writer, spec.RequiredCapabilities);
            WriteSorted(writer, spec.DependsOn);
            writer.WriteStringValue(spec.ParentId);
            writer.WriteStringValue(spec.Timeout?.Ticks.ToString(CultureInfo.InvariantCulture));
            writer.WriteNumberValue(spec.MaxAttempts);
            writer.WriteStringValue(spec.RetryBackoff?.Ticks.ToString(CultureInfo.InvariantCulture));
            writer.WriteStringValue(spec.Deadline?.UtcTicks.ToString(CultureInfo.InvariantCulture));
            writer.WriteStringValue(spec.IdempotencyKey);
            writer.WriteStartArray();
            foreach (var (key, value) in (spec.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteStringValue(key);
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void Length(List<string> problems, string field, string? value, int min, int max)
    {
        var length = value?.Length ?? 0;
        if (length < min || length > max || string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{field}: must be {min} to {max} characters and not blank (got {length})");
        }
    }

    private static void WriteSorted(Utf8JsonWriter writer, IReadOnlyList<string>? values)
    {
        writer.WriteStartArray();
        foreach (var value in (values ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
