using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Agents;

/// <summary>What a valid registration, update and query look like, and their normal form.</summary>
internal static class AgentRules
{
    public const int MaxNameLength = 200;
    public const int MaxTypeLength = 100;
    public const int MaxDescriptionLength = 2000;
    public const int MaxCapabilityLength = 100;
    public const int MaxCapabilities = 100;
    public const int MaxConcurrentTasksLimit = 1000;
    public const int MaxMetadataEntries = 64;
    public const int MaxMetadataKeyLength = 100;
    public const int MaxMetadataValueLength = 1000;
    public const int MaxReasonLength = 500;
    public const int MaxPageSize = 1000;

    /// <summary>Trimmed name and type, de-duplicated capabilities, no null description or metadata.</summary>
    public static AgentRegistration Normalize(AgentRegistration? registration)
    {
        if (registration is null)
        {
            throw new ValidationException("Registration is required.");
        }

        return new AgentRegistration(
            Name(registration.Name),
            Text(registration.Type, "Type", MaxTypeLength),
            Description(registration.Description),
            Capabilities(registration.Capabilities, "Capabilities", requireOne: true),
            MaxConcurrentTasks(registration.MaxConcurrentTasks),
            Metadata(registration.Metadata));
    }

    public static string Name(string? name) => Text(name, "Name", MaxNameLength);

    public static string Description(string? description)
    {
        var value = description ?? "";
        return value.Length <= MaxDescriptionLength
            ? value
            : throw new ValidationException($"Description must be at most {MaxDescriptionLength} characters; it has {value.Length}.");
    }

    public static int MaxConcurrentTasks(int value) =>
        value is >= 1 and <= MaxConcurrentTasksLimit
            ? value
            : throw new ValidationException($"MaxConcurrentTasks must be between 1 and {MaxConcurrentTasksLimit}; it is {value}.");

    /// <summary>Each trimmed and non-blank, duplicates dropped (first occurrence kept); compared exactly, case included.</summary>
    public static IReadOnlyList<string> Capabilities(IReadOnlyList<string>? capabilities, string field, bool requireOne)
    {
        if (capabilities is null || capabilities.Count == 0)
        {
            return requireOne ? throw new ValidationException($"{field} must list at least one capability.") : [];
        }

        if (capabilities.Count > MaxCapabilities)
        {
            throw new ValidationException($"{field} may list at most {MaxCapabilities} capabilities; it lists {capabilities.Count}.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>(capabilities.Count);
        for (var i = 0; i < capabilities.Count; i++)
        {
            var capability = capabilities[i]?.Trim();
            if (string.IsNullOrEmpty(capability))
            {
                throw new ValidationException($"{field}[{i}] is blank; a capability is a non-blank name.");
            }

            if (capability.Length > MaxCapabilityLength)
            {
                throw new ValidationException($"{field}[{i}] is {capability.Length} characters; at most {MaxCapabilityLength} are allowed.");
            }

            if (seen.Add(capability))
            {
                result.Add(capability);
            }
        }

        return result;
    }

    public static IReadOnlyDictionary<string, string> Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        if (metadata.Count > MaxMetadataEntries)
        {
            throw new ValidationException($"Metadata may have at most {MaxMetadataEntries} entries; it has {metadata.Count}.");
        }

        var result = new Dictionary<string, string>(metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxMetadataKeyLength)
            {
                throw new ValidationException($"Metadata key '{key}' must be non-blank and at most {MaxMetadataKeyLength} characters.");
            }

            if (value is null || value.Length > MaxMetadataValueLength)
            {
                throw new ValidationException($"Metadata['{key}'] must be a value of at most {MaxMetadataValueLength} characters.");
            }

            result[key] = value;
        }

        return result;
    }

    /// <summary>A status reason: optional, trimmed, bounded.</summary>
    public static string? Reason(string? reason)
    {
        var value = reason?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return value.Length <= MaxReasonLength
            ? value
            : throw new ValidationException($"Reason must be at most {MaxReasonLength} characters; it has {value.Length}.");
    }

    public static void Page(int skip, int take)
    {
        if (skip < 0)
        {
            throw new ValidationException($"Skip must be 0 or more; it is {skip}.");
        }

        if (take is < 1 or > MaxPageSize)
        {
            throw new ValidationException($"Take must be between 1 and {MaxPageSize}; it is {take}.");
        }
    }

    /// <summary>The query with its capabilities normalised and its type trimmed (blank means any type).</summary>
    public static AgentQuery Normalize(AgentQuery? query)
    {
        if (query is null)
        {
            throw new ValidationException("Query is required.");
        }

        Page(query.Skip, query.Take);
        var type = query.Type?.Trim();
        return query with
        {
            Capabilities = Capabilities(query.Capabilities, "Capabilities", requireOne: false),
            Type = string.IsNullOrEmpty(type) ? null : type,
        };
    }

    /// <summary>What differs between two normalised registrations, by field name; empty when they are the same.</summary>
    public static IReadOnlyList<string> Differences(AgentRegistration current, AgentRegistration other)
    {
        var differences = new List<string>();
        if (current.Name != other.Name)
        {
            differences.Add("Name");
        }

        if (current.Type != other.Type)
        {
            differences.Add("Type");
        }

        if (current.Description != other.Description)
        {
            differences.Add("Description");
        }

        if (!current.Capabilities.ToHashSet(StringComparer.Ordinal).SetEquals(other.Capabilities))
        {
            differences.Add("Capabilities");
        }

        if (current.MaxConcurrentTasks != other.MaxConcurrentTasks)
        {
            differences.Add("MaxConcurrentTasks");
        }

        if (!SameMetadata(current.Metadata, other.Metadata))
        {
            differences.Add("Metadata");
        }

        return differences;
    }

    private static bool SameMetadata(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);

    private static string Text(string? value, string field, int maxLength)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw new ValidationException($"{field} is required.");
        }

        return trimmed.Length <= maxLength
            ? trimmed
            : throw new ValidationException($"{field} must be at most {maxLength} characters; it has {trimmed.Length}.");
    }
}
