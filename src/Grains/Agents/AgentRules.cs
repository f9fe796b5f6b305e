using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Agents;

/// <summary>
/// What a valid registration, update and query look like, and their normal form. Every problem is collected and
/// reported at once in one <see cref="ValidationException"/>, each as "field: message". The capability limits are
/// the agent index's: dispatch looks tasks' required capabilities up with the same <see cref="Capabilities"/>.
/// </summary>
internal static class AgentRules
{
    public const int MaxNameLength = 200;
    public const int MaxTypeLength = 100;
    public const int MaxDescriptionLength = 2000;

    /// <summary>Longest capability, of an agent or required by a task.</summary>
    public const int MaxCapabilityLength = 100;

    /// <summary>Most capabilities an agent offers.</summary>
    public const int MaxCapabilities = 100;

    /// <summary>
    /// Most capabilities a task requires or a query asks for: the index's candidate lookup joins once per capability,
    /// and SQLite joins at most 64 tables (PostgreSQL plans long joins slowly). Task rules and index share it.
    /// </summary>
    public const int MaxRequiredCapabilities = 32;
    public const int MaxConcurrentTasksLimit = 1000;
    public const int MaxMetadataEntries = InputText.MaxMetadataEntries;
    public const int MaxMetadataKeyLength = InputText.MaxMetadataKeyLength;
    public const int MaxMetadataValueLength = InputText.MaxMetadataValueLength;
    public const int MaxReasonLength = 500;
    public const int MaxPageSize = 1000;

    /// <summary>Trimmed name and type, de-duplicated capabilities, no null description or metadata; the id checked too.</summary>
    public static AgentRegistration Normalize(string id, AgentRegistration? registration)
    {
        var problems = new List<string>();
        Add(problems, InputText.IdProblem("id", id));
        if (registration is null)
        {
            problems.Add("registration: required");
            throw Invalid(id, problems);
        }

        var normal = new AgentRegistration(
            Text(problems, registration.Name, "name", MaxNameLength),
            Text(problems, registration.Type, "type", MaxTypeLength),
            Description(problems, registration.Description),
            Capabilities(problems, registration.Capabilities, "capabilities", requireOne: true),
            MaxConcurrentTasks(problems, registration.MaxConcurrentTasks),
            Metadata(problems, registration.Metadata));
        return problems.Count == 0 ? normal : throw Invalid(id, problems);
    }

    /// <summary>The registration with the update's non-null fields applied and normalised.</summary>
    public static AgentRegistration Apply(string id, AgentRegistration before, AgentUpdate update)
    {
        var problems = new List<string>();
        var after = before with
        {
            Name = update.Name is null ? before.Name : Text(problems, update.Name, "name", MaxNameLength),
            Description = update.Description is null ? before.Description : Description(problems, update.Description),
            Capabilities = update.Capabilities is null ? before.Capabilities : Capabilities(problems, update.Capabilities, "capabilities", requireOne: true),
            MaxConcurrentTasks = update.MaxConcurrentTasks is { } max ? MaxConcurrentTasks(problems, max) : before.MaxConcurrentTasks,
            Metadata = update.Metadata is null ? before.Metadata : Metadata(problems, update.Metadata),
        };
        return problems.Count == 0 ? after : throw Invalid(id, problems);
    }

    /// <summary>Each trimmed and non-blank, duplicates dropped (first occurrence kept); compared exactly, case included.</summary>
    public static IReadOnlyList<string> Capabilities(IReadOnlyList<string>? capabilities, string field, bool requireOne, int max = MaxCapabilities)
    {
        var problems = new List<string>();
        var result = Capabilities(problems, capabilities, field, requireOne, max);
        return problems.Count == 0 ? result : throw new ValidationException("Invalid capabilities", problems);
    }

    private static string Description(List<string> problems, string? description)
    {
        var value = description ?? "";
        if (value.Length > MaxDescriptionLength)
        {
            problems.Add($"description: at most {MaxDescriptionLength} characters (got {value.Length})");
        }

        Add(problems, InputText.TextProblem("description", value));
        return value;
    }

    private static int MaxConcurrentTasks(List<string> problems, int value)
    {
        if (value is < 1 or > MaxConcurrentTasksLimit)
        {
            problems.Add($"maxConcurrentTasks: must be 1 to {MaxConcurrentTasksLimit} (got {value})");
        }

        return value;
    }

    /// <summary>Capabilities a lookup in the index may ask for (<see cref="MaxRequiredCapabilities"/>).</summary>
    public static IReadOnlyList<string> Required(IReadOnlyList<string>? capabilities, string field) =>
        Capabilities(capabilities, field, requireOne: false, MaxRequiredCapabilities);

    private static List<string> Capabilities(List<string> problems, IReadOnlyList<string>? capabilities, string field, bool requireOne, int max = MaxCapabilities)
    {
        var result = new List<string>(capabilities?.Count ?? 0);
        if (capabilities is null || capabilities.Count == 0)
        {
            if (requireOne)
            {
                problems.Add($"{field}: at least one capability is required");
            }

            return result;
        }

        if (capabilities.Count > max)
        {
            problems.Add($"{field}: at most {max} capabilities (got {capabilities.Count})");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < capabilities.Count; i++)
        {
            var capability = capabilities[i]?.Trim();
            var problem = string.IsNullOrEmpty(capability) ? $"{field}[{i}]: must be a non-blank name"
                : capability.Length > MaxCapabilityLength ? $"{field}[{i}]: at most {MaxCapabilityLength} characters (got {capability.Length})"
                : InputText.NameProblem($"{field}[{i}]", capability);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            else if (seen.Add(capability!))
            {
                result.Add(capability!);
            }
        }

        return result;
    }

    private static Dictionary<string, string> Metadata(List<string> problems, IReadOnlyDictionary<string, string>? metadata)
    {
        var found = InputText.MetadataProblems(metadata).ToList();
        problems.AddRange(found);
        return metadata is null || found.Count > 0
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    /// <summary>A status reason: optional, trimmed, bounded.</summary>
    public static string? Reason(string? reason)
    {
        var value = reason?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var problem = value.Length > MaxReasonLength ? $"reason: at most {MaxReasonLength} characters (got {value.Length})" : InputText.TextProblem("reason", value);
        return problem is null ? value : throw new ValidationException("Invalid reason", [problem]);
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
            Capabilities = Required(query.Capabilities, "capabilities"),
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

    private static string Text(List<string> problems, string? value, string field, int maxLength)
    {
        var trimmed = value?.Trim() ?? "";
        var problem = trimmed.Length == 0 ? $"{field}: required (1 to {maxLength} characters, not blank)"
            : trimmed.Length > maxLength ? $"{field}: at most {maxLength} characters (got {trimmed.Length})"
            : InputText.NameProblem(field, trimmed);
        Add(problems, problem);
        return trimmed;
    }

    private static void Add(List<string> problems, string? problem)
    {
        if (problem is not null)
        {
            problems.Add(problem);
        }
    }

    private static ValidationException Invalid(string id, List<string> problems) => new($"Agent '{id}'", problems);
}
