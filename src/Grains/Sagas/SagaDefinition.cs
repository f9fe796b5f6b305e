using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Sagas;

/// <summary>How long an attempt may run, how many attempts there are, and the first back-off (doubling after each failure).</summary>
[GenerateSerializer, Immutable, Alias("noorg.sagas.policy")]
public sealed record SagaPolicy(TimeSpan Timeout, int MaxAttempts, TimeSpan Backoff)
{
    public static SagaPolicy DefaultStep { get; } = new(TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(1));

    public static SagaPolicy DefaultCompensation { get; } = new(TimeSpan.FromMinutes(5), 5, TimeSpan.FromSeconds(1));
}

/// <summary>One step: its stable id, its group (steps of one parallel group share it), what it does and how to undo it.</summary>
public sealed record SagaStepDefinition(
    string Id, int Group, SagaAction Action, SagaAction? Compensation, SagaPolicy Policy, SagaPolicy CompensationPolicy);

/// <summary>A validated saga definition, registered in every silo with <c>services.AddNoOrgSaga(definition)</c>.</summary>
public sealed class SagaDefinition
{
    internal SagaDefinition(string name, string description, IReadOnlyList<SagaStepDefinition> steps)
    {
        Name = name;
        Description = description;
        Steps = steps;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>In execution order; the steps of a parallel group are adjacent and share a group number.</summary>
    public IReadOnlyList<SagaStepDefinition> Steps { get; }

    public static SagaDefinitionBuilder Create(string name) => new(name);

    public SagaStepDefinition? Find(string stepId) => Steps.FirstOrDefault(s => s.Id == stepId);

    public SagaDefinitionInfo Describe() => new(Name, Description, [.. Steps.Select(s => new SagaStepInfo(
        s.Id, s.Group, s.Action.Kind, s.Compensation?.Kind, s.Policy.Timeout, s.Policy.MaxAttempts, s.Policy.Backoff))]);
}

/// <summary>
/// Builds a <see cref="SagaDefinition"/>: steps in order, each optionally followed by its compensation and policies,
/// which apply to the step added last. <see cref="Build"/> rejects an invalid definition with every problem named.
/// </summary>
public sealed class SagaDefinitionBuilder
{
    public const int MaxIdLength = 100;
    public const int MaxAttempts = 100;

    private readonly string name;
    private readonly List<StepDraft> steps = [];
    private readonly List<string> problems = [];
    private string description = "";
    private int group = -1;
    private bool inParallel;

    internal SagaDefinitionBuilder(string name) => this.name = name;

    public SagaDefinitionBuilder Describe(string text)
    {
        description = text ?? "";
        return this;
    }

    /// <summary>A step run by code in the silo: returns its output JSON (or null), throws to fail the attempt.</summary>
    public SagaDefinitionBuilder Step(string id, Func<SagaStepContext, Task<string?>> action) =>
        Add(id, action is null ? null : new DelegateSagaAction(action));

    /// <summary>A step run by an <see cref="ISagaStep"/> created from the silo's services for each attempt.</summary>
    public SagaDefinitionBuilder Step<TStep>(string id) where TStep : ISagaStep => Add(id, new TypedSagaAction<TStep>());

    /// <summary>A step run as a NoOrg task by an agent with every one of <paramref name="capabilities"/>; waits for its outcome.</summary>
    public SagaDefinitionBuilder TaskStep(string id, string taskType, params string[] capabilities) =>
        Add(id, TaskAction(taskType, capabilities, id));

    public SagaDefinitionBuilder Compensate(Func<SagaStepContext, Task<string?>> compensation) =>
        SetCompensation(compensation is null ? null : new DelegateSagaAction(compensation));

    public SagaDefinitionBuilder Compensate<TStep>() where TStep : ISagaStep => SetCompensation(new TypedSagaAction<TStep>());

    public SagaDefinitionBuilder CompensateWithTask(string taskType, params string[] capabilities) =>
        SetCompensation(TaskAction(taskType, capabilities, Last?.Id ?? "?"));

    /// <summary>The longest one attempt of the last step may run before it counts as failed.</summary>
    public SagaDefinitionBuilder Timeout(TimeSpan timeout) => Modify("Timeout", d => d.Policy = d.Policy with { Timeout = timeout });

    /// <summary>The last step gets <paramref name="attempts"/> attempts in all, waiting <paramref name="backoff"/> (doubling) between them.</summary>
    public SagaDefinitionBuilder Retry(int attempts, TimeSpan backoff) =>
        Modify("Retry", d => d.Policy = d.Policy with { MaxAttempts = attempts, Backoff = backoff });

    public SagaDefinitionBuilder CompensationTimeout(TimeSpan timeout) =>
        Modify("CompensationTimeout", d => d.CompensationPolicy = d.CompensationPolicy with { Timeout = timeout });

    public SagaDefinitionBuilder CompensationRetry(int attempts, TimeSpan backoff) =>
        Modify("CompensationRetry", d => d.CompensationPolicy = d.CompensationPolicy with { MaxAttempts = attempts, Backoff = backoff });

    /// <summary>Steps added inside <paramref name="group"/> run concurrently, and are compensated together.</summary>
    public SagaDefinitionBuilder Parallel(Action<SagaDefinitionBuilder> group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (inParallel)
        {
            problems.Add("parallel groups cannot be nested");
            return this;
        }

        var before = steps.Count;
        this.group++;
        inParallel = true;
        try
        {
            group(this);
        }
        finally
        {
            inParallel = false;
        }

        if (steps.Count == before)
        {
            problems.Add($"parallel group {this.group + 1}: has no steps");
        }

        return this;
    }

    public SagaDefinition Build()
    {
        var all = new List<string>(problems);
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxIdLength)
        {
            all.Add($"name: required, 1 to {MaxIdLength} characters");
        }

        if (steps.Count == 0)
        {
            all.Add("steps: a saga needs at least one step");
        }

        foreach (var duplicate in steps.GroupBy(s => s.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            all.Add($"step '{duplicate.Key}': the id is used {duplicate.Count()} times; step ids must be unique");
        }

        foreach (var step in steps)
        {
            all.AddRange(PolicyProblems($"step '{step.Id}'", step.Policy));
            all.AddRange(PolicyProblems($"step '{step.Id}' compensation", step.CompensationPolicy));
        }

        if (all.Count > 0)
        {
            throw new ValidationException($"Saga definition '{name}' is invalid: {string.Join("; ", all)}.");
        }

        return new SagaDefinition(name, description, [.. steps.Select(s => new SagaStepDefinition(
            s.Id, s.Group, s.Action, s.Compensation, s.Policy, s.CompensationPolicy))]);
    }

    private StepDraft? Last => steps.Count == 0 ? null : steps[^1];

    private AgentTaskSagaAction? TaskAction(string taskType, string[] capabilities, string stepId)
    {
        if (string.IsNullOrWhiteSpace(taskType))
        {
            problems.Add($"step '{stepId}': the task type is required");
            return null;
        }

        return new AgentTaskSagaAction(taskType, capabilities is { Length: > 0 } ? capabilities : [taskType]);
    }

    private SagaDefinitionBuilder Add(string id, SagaAction? action)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > MaxIdLength || id.Contains(':', StringComparison.Ordinal))
        {
            problems.Add($"step id '{id}': required, 1 to {MaxIdLength} characters, without ':'");
        }

        if (action is null)
        {
            problems.Add($"step '{id}': the action is required");
        }

        if (!inParallel)
        {
            group++;
        }

        steps.Add(new StepDraft(id ?? "", group, action ?? new DelegateSagaAction(_ => Task.FromResult<string?>(null))));
        return this;
    }

    private SagaDefinitionBuilder SetCompensation(SagaAction? compensation)
    {
        if (compensation is null)
        {
            problems.Add($"step '{Last?.Id}': the compensation is required");
            return this;
        }

        return Modify("Compensate", d =>
        {
            if (d.Compensation is not null)
            {
                problems.Add($"step '{d.Id}': has two compensations");
            }

            d.Compensation = compensation;
        });
    }

    private SagaDefinitionBuilder Modify(string what, Action<StepDraft> change)
    {
        if (Last is { } last)
        {
            change(last);
        }
        else
        {
            problems.Add($"{what}: applies to the step before it, and there is none");
        }

        return this;
    }

    private static IEnumerable<string> PolicyProblems(string where, SagaPolicy policy)
    {
        if (policy.Timeout <= TimeSpan.Zero)
        {
            yield return $"{where}: timeout must be positive (got {policy.Timeout})";
        }

        if (policy.MaxAttempts is < 1 or > MaxAttempts)
        {
            yield return $"{where}: attempts must be 1 to {MaxAttempts} (got {policy.MaxAttempts})";
        }

        if (policy.Backoff < TimeSpan.Zero)
        {
            yield return $"{where}: back-off must not be negative (got {policy.Backoff})";
        }
    }

    private sealed class StepDraft(string id, int group, SagaAction action)
    {
        public string Id { get; } = id;

        public int Group { get; } = group;

        public SagaAction Action { get; } = action;

        public SagaAction? Compensation { get; set; }

        public SagaPolicy Policy { get; set; } = SagaPolicy.DefaultStep;

        public SagaPolicy CompensationPolicy { get; set; } = SagaPolicy.DefaultCompensation;
    }
}
