using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoOrg.Client.Ai;
using NoOrg.Configuration;
using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Ai;

/// <summary>Settings, tasks and handlers for the AI tests.</summary>
internal static class AiTesting
{
    /// <summary>Looks like a real key and appears nowhere else, so finding it in a log means it leaked.</summary>
    public const string ApiKey = "sk-noorg-test-7f3c9a1e5b2d4f6081a9c3e5d7f9b1a3";

    public const string ClassifySchema = """
        {
          "type": "object",
          "properties": {
            "category": { "type": "string", "enum": ["bug", "question", "feature"] },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
            "summary": { "type": "string", "maxLength": 80 }
          },
          "required": ["category", "confidence", "summary"],
          "additionalProperties": false
        }
        """;

    public static AiWorkerOptions Classify() => new AiWorkerOptions { SystemPrompt = "You sort support tickets." }
        .Add("classify", new AiInstruction("Classify this ticket from {{input.customer}}: {{input.text}}", ClassifySchema));

    public static NoOrgSettings Settings(params (string Key, string Value)[] values) =>
        NoOrgSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    /// <summary>OpenAI at the stub with a key, fast retries, a breaker that opens after two failures, 0.5/1.5 per 1k tokens.</summary>
    public static NoOrgSettings OpenAiAt(ChatCompletionsStub stub, params (string Key, string Value)[] more) => Settings(
    [
        ("NOORG_LLM_PROVIDER", "openai"), ("NOORG_LLM_ENDPOINT", stub.Endpoint), ("NOORG_LLM_API_KEY", ApiKey),
        ("NOORG_LLM_MODEL", "stub-model"), ("NOORG_LLM_TIMEOUT_SECONDS", "10"), ("NOORG_LLM_MAX_RETRIES", "2"),
        ("NOORG_LLM_INPUT_PRICE_PER_1K", "0.5"), ("NOORG_LLM_OUTPUT_PRICE_PER_1K", "1.5"),
        ("NOORG_RESILIENCE_DESTINATIONS", "llm:openai:baseDelayMs=10,minThroughput=2,samplingSeconds=60,breakSeconds=60"),
        .. more,
    ]);

    public static AiTaskHandler Handler(LlmConnection connection, AiWorkerOptions? options = null, ILoggerFactory? loggers = null) =>
        new(connection, Options.Create(options ?? Classify()), (loggers ?? NullLoggerFactory.Instance).CreateLogger<AiTaskHandler>());

    public static TaskSnapshot Task(string type, string inputJson)
    {
        var now = DateTimeOffset.UtcNow;
        return new TaskSnapshot($"ai-{Guid.NewGuid():N}", new TaskSpec("a ticket", type, InputJson: inputJson), TaskState.Running, "ai-agent", 1,
            now, now, now, null, null, null, null, null, [], null, 1);
    }

    public const string Ticket = """{"customer":"Ada","text":"The app crashes when I upload a photo."}""";
}
