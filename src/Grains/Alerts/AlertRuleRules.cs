using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Alerts;

/// <summary>What makes an alert rule valid: every problem as "field: message", raised together.</summary>
public static class AlertRuleRules
{
    public static readonly TimeSpan MaxFor = TimeSpan.FromDays(7);
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(30);
    public static readonly TimeSpan MaxSilence = TimeSpan.FromDays(30);
    public const int MaxDescriptionLength = 500;
    public const int MaxNoteLength = 1000;

    public static IReadOnlyList<string> Problems(string? name, AlertRuleSpec? spec)
    {
        var problems = new List<string>();
        if (InputText.IdProblem("name", name) is { } badName)
        {
            problems.Add(badName);
        }

        if (spec is null)
        {
            problems.Add("spec: required");
            return problems;
        }

        if (!Enum.IsDefined(spec.Kind))
        {
            problems.Add($"kind: must be one of {string.Join(", ", Enum.GetNames<AlertKind>())} (got {(int)spec.Kind})");
            return problems;
        }

        if (!double.IsFinite(spec.Threshold) || spec.Threshold < 0)
        {
            problems.Add($"threshold: must be a number of at least 0 (got {spec.Threshold})");
        }
        else if (spec.Kind == AlertKind.SagaFailureRate && spec.Threshold >= 1)
        {
            problems.Add($"threshold: a saga failure rate is a share from 0 to below 1 (got {spec.Threshold})");
        }
        else if (spec.Kind == AlertKind.NoHealthyAgent && spec.Threshold != 0)
        {
            problems.Add("threshold: not used by NoHealthyAgent rules (they fire when no agent qualifies); leave it 0");
        }

        if (spec.For < TimeSpan.Zero || spec.For > MaxFor)
        {
            problems.Add($"for: must be from 00:00:00 to {MaxFor} (got {spec.For})");
        }

        var needsCapability = spec.Kind == AlertKind.NoHealthyAgent;
        var takesCapability = needsCapability || spec.Kind == AlertKind.PendingTasks;
        if (spec.Capability is null)
        {
            if (needsCapability)
            {
                problems.Add("capability: required for NoHealthyAgent rules");
            }
        }
        else if (!takesCapability)
        {
            problems.Add($"capability: only PendingTasks and NoHealthyAgent rules take one (this is {spec.Kind})");
        }
        else if (InputText.IdProblem("capability", spec.Capability) is { } badCapability)
        {
            problems.Add(badCapability);
        }

        if (spec.Window is not { } window)
        {
            if (spec.Kind == AlertKind.SagaFailureRate)
            {
                problems.Add("window: required for SagaFailureRate rules (the sagas finished within it count)");
            }
        }
        else if (spec.Kind != AlertKind.SagaFailureRate)
        {
            problems.Add($"window: only SagaFailureRate rules take one (this is {spec.Kind})");
        }
        else if (window < MinWindow || window > MaxWindow)
        {
            problems.Add($"window: must be from {MinWindow} to {MaxWindow} (got {window})");
        }

        if (spec.Description is { } description)
        {
            if (description.Length > MaxDescriptionLength)
            {
                problems.Add($"description: at most {MaxDescriptionLength} characters (got {description.Length})");
            }
            else if (InputText.TextProblem("description", description) is { } badDescription)
            {
                problems.Add(badDescription);
            }
        }

        return problems;
    }

    /// <summary>Throws a <see cref="ValidationException"/> naming every bad field.</summary>
    public static void Require(string? name, AlertRuleSpec? spec)
    {
        var problems = Problems(name, spec);
        if (problems.Count > 0)
        {
            throw new ValidationException($"Alert rule '{name}' is not valid", problems);
        }
    }

    public static void RequireNote(string? note)
    {
        if (note is { Length: > MaxNoteLength })
        {
            throw new ValidationException("Acknowledgement is not valid", [$"note: at most {MaxNoteLength} characters (got {note.Length})"]);
        }

        if (InputText.TextProblem("note", note) is { } problem)
        {
            throw new ValidationException("Acknowledgement is not valid", [problem]);
        }
    }

    public static void RequireSilence(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero || duration > MaxSilence)
        {
            throw new ValidationException("Silence is not valid", [$"for: must be from 00:00:00 (lifts a silence) to {MaxSilence} (got {duration})"]);
        }
    }
}
