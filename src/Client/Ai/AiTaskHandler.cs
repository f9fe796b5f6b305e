using System.ClientModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Client.Workers;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace NoOrg.Client.Ai;

/// <summary>
/// The worker handler of an AI agent: the task's type picks its instruction, the task's input is rendered into it,
/// the model is asked (for JSON matching the instruction's schema, when it has one), the answer is checked, and the
/// result records the output with the model, token usage and cost. Every failure is an <see cref="LlmException"/>
/// whose message never holds the API key.
/// </summary>
public sealed partial class AiTaskHandler : IAgentTaskHandler
{
    private readonly LlmConnection connection;
    private readonly ILogger<AiTaskHandler> logger;
    private readonly string? systemPrompt;
    private readonly Dictionary<string, (AiInstruction Instruction, InstructionTemplate Template, StructuredOutput? Output)> instructions = new(StringComparer.Ordinal);

    /// <summary>Checks every instruction at once: throws <see cref="ValidationException"/> listing each problem.</summary>
    public AiTaskHandler(LlmConnection connection, IOptions<AiWorkerOptions> options, ILogger<AiTaskHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        this.connection = connection;
        this.logger = logger;
        systemPrompt = options.Value.SystemPrompt;
        var problems = new List<string>();
        if (options.Value.Instructions.Count == 0)
        {
            problems.Add("Instructions: add at least one task type and its instruction");
        }

        foreach (var (type, instruction) in options.Value.Instructions)
        {
            if (instruction is null)
            {
                problems.Add($"Instructions[{type}]: must not be null");
                continue;
            }

            var (template, templateProblems) = InstructionTemplate.Parse(type, instruction.Template);
            problems.AddRange(templateProblems);
            StructuredOutput? output = null;
            if (instruction.OutputSchema is { } schema)
            {
                (output, var schemaProblem) = StructuredOutput.Parse(type, schema);
                if (schemaProblem is not null)
                {
                    problems.Add(schemaProblem);
                }
            }

            if (instruction.MaxOutputTokens is <= 0)
            {
                problems.Add($"Instructions[{type}].MaxOutputTokens: must be positive");
            }

            if (template is not null)
            {
                instructions[type] = (instruction, template, output);
            }
        }

        if (problems.Count > 0)
        {
            throw new ValidationException("AiWorkerOptions", problems);
        }
    }

    public async Task<string> HandleAsync(TaskSnapshot task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await RunAsync(task, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            var failure = Describe(e);
            LogFailed(logger, task.Id, task.Spec.Type, failure.Code, failure.Message);
            throw failure;
        }
    }

    private async Task<string> RunAsync(TaskSnapshot task, CancellationToken cancellationToken)
    {
        if (!instructions.TryGetValue(task.Spec.Type, out var entry))
        {
            throw new LlmException(LlmErrorCodes.InvalidTask,
                $"no instruction for task type '{task.Spec.Type}'; this worker knows: {string.Join(", ", instructions.Keys.Order(StringComparer.Ordinal))}");
        }

        using var input = JsonDocument.Parse(task.Spec.InputJson);
        var prompt = entry.Template.Render(task, input.RootElement);
        var options = new ChatOptions
        {
            Instructions = entry.Instruction.System ?? systemPrompt,
            Temperature = entry.Instruction.Temperature,
            MaxOutputTokens = entry.Instruction.MaxOutputTokens,
            ResponseFormat = entry.Output is { } output
                ? ChatResponseFormat.ForJsonSchema(output.Element, SchemaName(task.Spec.Type), $"The result of a '{task.Spec.Type}' task")
                : ChatResponseFormat.Text,
        };

        var response = await connection.Chat.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, cancellationToken);
        var cost = connection.Budget.Pricing.Cost(response.Usage);
        var spent = Spent(response.Usage, cost);
        LogAnswered(logger, task.Id, task.Spec.Type, response.ModelId ?? connection.Model, response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0, cost, connection.Budget.Pricing.Currency);

        if (Refusal(response) is { } refusal)
        {
            throw new LlmException(LlmErrorCodes.Refused, $"the model refused the '{task.Spec.Type}' task: {refusal} ({spent})");
        }

        JsonNode? answer;
        if (entry.Output is { } schema)
        {
            JsonElement parsed;
            try
            {
                using var document = JsonDocument.Parse(response.Text);
                parsed = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new LlmException(LlmErrorCodes.InvalidOutput, $"the model's answer to the '{task.Spec.Type}' task is not JSON ({e.Message}) ({spent})");
            }

            var problems = schema.Check(parsed);
            if (problems.Count > 0)
            {
                throw new LlmException(LlmErrorCodes.InvalidOutput,
                    $"the model's answer to the '{task.Spec.Type}' task does not match its output schema: {string.Join("; ", problems)} ({spent})");
            }

            answer = JsonNode.Parse(parsed.GetRawText());
        }
        else
        {
            answer = JsonValue.Create(response.Text);
        }

        return Result(answer, response, cost).ToJsonString();
    }

    /// <summary>What a completed AI task records: its output, and which model produced it at what usage and cost.</summary>
    private JsonObject Result(JsonNode? output, ChatResponse response, decimal cost) => new()
    {
        ["output"] = output,
        ["provider"] = connection.Provider,
        ["model"] = response.ModelId ?? connection.Model,
        ["finishReason"] = response.FinishReason?.Value,
        ["usage"] = new JsonObject
        {
            ["inputTokens"] = response.Usage?.InputTokenCount ?? 0,
            ["outputTokens"] = response.Usage?.OutputTokenCount ?? 0,
            ["totalTokens"] = response.Usage?.TotalTokenCount ?? (response.Usage?.InputTokenCount ?? 0) + (response.Usage?.OutputTokenCount ?? 0),
        },
        ["cost"] = new JsonObject { ["amount"] = cost, ["currency"] = connection.Budget.Pricing.Currency },
    };

    private string Spent(UsageDetails? usage, decimal cost) =>
        string.Create(CultureInfo.InvariantCulture, $"used {usage?.InputTokenCount ?? 0} input and {usage?.OutputTokenCount ?? 0} output tokens, {cost} {connection.Budget.Pricing.Currency}");

    /// <summary>A refusal (OpenAI's <c>refusal</c> field arrives as error content) or a content filter's stop.</summary>
    private static string? Refusal(ChatResponse response)
    {
        var refusal = response.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>().FirstOrDefault();
        if (refusal is not null)
        {
            return refusal.Message;
        }

        return response.FinishReason == ChatFinishReason.ContentFilter ? "the provider's content filter stopped the answer" : null;
    }

    /// <summary>Any failure as an <see cref="LlmException"/> with its code, and the API key masked wherever it was.</summary>
    private LlmException Describe(Exception e)
    {
        var chain = Chain(e).ToList();
        var provider = connection.Provider;
        var failure = chain.OfType<LlmException>().FirstOrDefault() is { } known ? (known.Code, known.Message)
            : chain.Any(x => x is BrokenCircuitException or IsolatedCircuitException)
                ? (LlmErrorCodes.CircuitOpen, $"calls to {provider} are held back: its circuit breaker opened after repeated failures and lets a trial call through after {connection.Governance?.BreakDuration.TotalSeconds ?? 0:0}s")
            : chain.Any(x => x is TimeoutRejectedException) ? (LlmErrorCodes.Timeout, $"{provider} did not answer in time ({e.Message})")
            : chain.OfType<ClientResultException>().FirstOrDefault() is { } http
                ? (LlmErrorCodes.Provider, http.Status > 0 ? $"{provider} answered HTTP {http.Status}: {http.Message}" : $"{provider} could not be reached: {http.Message}")
            : e is ValidationException or JsonException ? (LlmErrorCodes.InvalidTask, e.Message)
            : (LlmErrorCodes.Provider, $"{provider} failed: {e.GetType().Name}: {e.Message}");
        return new LlmException(failure.Item1, Mask(failure.Item2));
    }

    private string Mask(string text)
    {
        var key = connection.Settings.ApiKey;
        return key.Length == 0 ? text : text.Replace(key, "***", StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }

    /// <summary>OpenAI wants ^[a-zA-Z0-9_-]{1,64}$.</summary>
    private static string SchemaName(string taskType)
    {
        var name = NotAllowedInSchemaName().Replace(taskType, "_");
        return name.Length > 64 ? name[..64] : name;
    }

    [GeneratedRegex("[^a-zA-Z0-9_-]")]
    private static partial Regex NotAllowedInSchemaName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} ({Type}): {Model} used {InputTokens} input and {OutputTokens} output tokens, {Cost} {Currency}")]
    private static partial void LogAnswered(ILogger logger, string taskId, string type, string model, long inputTokens, long outputTokens, decimal cost, string currency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} ({Type}) failed: {Code}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string taskId, string type, string code, string reason);
}
