using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// A completion or failure report that reaches a task already holding the outcome of the reporting agent's attempt
/// (typically a report retried after its answer was lost): the same outcome again is an idempotent success, a
/// different one is refused with a <see cref="ConflictException"/>, so the first outcome is never silently kept over
/// a contradicting one.
/// </summary>
internal static class RepeatedReport
{
    /// <summary>True when the completion repeats the stored one; false when it is no repeat; throws when it contradicts it.</summary>
    public static bool OfCompletion(TaskSnapshot task, string agentId, string resultJson)
    {
        if (task.State != TaskState.Completed || !string.Equals(task.AssignedTo, agentId, StringComparison.Ordinal))
        {
            return false;
        }

        if (SameJson(task.ResultJson, resultJson))
        {
            return true;
        }

        throw new ConflictException(
            $"Task {task.Id} was already completed by agent {agentId} with another result ({Excerpt(task.ResultJson)}); "
            + $"a different completion of the same attempt ({Excerpt(resultJson)}) is refused.");
    }

    /// <summary>True when the failure report repeats the stored failure; false when it is no repeat; throws when it contradicts the outcome.</summary>
    public static bool OfFailure(TaskSnapshot task, string agentId, string error)
    {
        if (!string.Equals(task.AssignedTo, agentId, StringComparison.Ordinal) || task.State is not (TaskState.Completed or TaskState.Failed))
        {
            return false;
        }

        if (task.State == TaskState.Failed && string.Equals(task.Error, Stored(error), StringComparison.Ordinal))
        {
            return true;
        }

        var outcome = task.State == TaskState.Completed ? $"completed with {Excerpt(task.ResultJson)}" : $"failed with \"{Excerpt(task.Error)}\"";
        throw new ConflictException(
            $"Task {task.Id} already {outcome} on agent {agentId}; a different report of the same attempt (failed: \"{Excerpt(error)}\") is refused.");
    }

    /// <summary>An error as the task stores it (cut to <see cref="TaskSpecRules.MaxErrorLength"/>).</summary>
    private static string Stored(string error) =>
        error.Length > TaskSpecRules.MaxErrorLength ? error[..TaskSpecRules.MaxErrorLength] + "…" : error;

    private static bool SameJson(string? stored, string reported)
    {
        if (string.Equals(stored, reported, StringComparison.Ordinal))
        {
            return true;
        }

        try
        {
            return stored is not null && JsonNode.DeepEquals(JsonNode.Parse(stored), JsonNode.Parse(reported));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Excerpt(string? text) => text is null ? "nothing" : text.Length <= 80 ? text : text[..80] + "…";
}
