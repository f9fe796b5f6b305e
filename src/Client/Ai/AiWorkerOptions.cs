namespace NoOrg.Client.Ai;

/// <summary>What an AI worker does with each task type: the instruction its input is rendered into.</summary>
public sealed class AiWorkerOptions
{
    /// <summary>Instructions by task type (<c>TaskSpec.Type</c>, case-sensitive). A task of another type fails.</summary>
    public IDictionary<string, AiInstruction> Instructions { get; } = new Dictionary<string, AiInstruction>(StringComparer.Ordinal);

    /// <summary>The system message of every call, unless an instruction has its own.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Adds (or replaces) the instruction for <paramref name="taskType"/>.</summary>
    public AiWorkerOptions Add(string taskType, AiInstruction instruction)
    {
        Instructions[taskType] = instruction;
        return this;
    }
}

/// <summary>
/// How a task of one type becomes a model call.
/// </summary>
/// <param name="Template">
/// The user message. <c>{{input}}</c> is the task's input JSON, <c>{{input.a.b}}</c> one value in it (a string as
/// is, anything else as JSON; a number segment indexes an array), <c>{{task.id}}</c>, <c>{{task.name}}</c>,
/// <c>{{task.type}}</c> and <c>{{task.description}}</c> the task's own fields.
/// </param>
/// <param name="OutputSchema">
/// A JSON schema (draft 2020-12) the answer must match: asked of the model as structured output, then validated.
/// Null asks for text.
/// </param>
/// <param name="System">The system message; null uses <see cref="AiWorkerOptions.SystemPrompt"/>.</param>
/// <param name="Temperature">Null leaves the provider's default.</param>
/// <param name="MaxOutputTokens">Null leaves the provider's default.</param>
public sealed record AiInstruction(string Template, string? OutputSchema = null, string? System = null, float? Temperature = null, int? MaxOutputTokens = null);
