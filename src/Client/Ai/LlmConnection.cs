using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NoOrg.Configuration;
using OpenAI;

namespace NoOrg.Client.Ai;

/// <summary>
/// The model this process talks to, as NOORG_LLM_* chooses it: the <see cref="IChatClient"/> (offline, or OpenAI's
/// client for openai, azure-openai and ollama, through <see cref="LlmGovernance"/>), wrapped in the budget.
/// </summary>
public sealed class LlmConnection : IDisposable
{
    private readonly IDisposable[] owned;

    private LlmConnection(LlmSettings settings, IChatClient chat, LlmBudget budget, LlmGovernance? governance, IDisposable[] owned)
    {
        Settings = settings;
        Chat = chat;
        Budget = budget;
        Governance = governance;
        this.owned = owned;
    }

    public LlmSettings Settings { get; }

    /// <summary>The client to call: refuses once the budget is spent.</summary>
    public IChatClient Chat { get; }

    public LlmBudget Budget { get; }

    /// <summary>Null for the offline provider, which sends nothing anywhere.</summary>
    public LlmGovernance? Governance { get; }

    public string Provider => LlmSettings.Name(Settings.Provider);

    /// <summary>The model name recorded on results.</summary>
    public string Model => Settings.IsRemote ? Settings.Model : OfflineChatClient.ModelName;

    /// <summary>A connection of the settings' provider; <paramref name="model"/> replaces the one they choose (a test's, an app's own).</summary>
    public static LlmConnection Create(NoOrgSettings settings, ILoggerFactory? loggers = null, IChatClient? model = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var llm = settings.Llm;
        var pricing = LlmPricing.From(llm);
        var budget = new LlmBudget((decimal)llm.Budget, pricing);
        if (model is not null || !llm.IsRemote)
        {
            var inner = model ?? new OfflineChatClient();
            return new LlmConnection(llm, new BudgetedChatClient(inner, budget), budget, null, [inner]);
        }

        var governance = new LlmGovernance(llm, settings.Resilience, loggers ?? NullLoggerFactory.Instance);
        var http = governance.CreateHttpClient();
        var options = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // the governance retries, on its own terms
            NetworkTimeout = governance.TotalTimeout + TimeSpan.FromSeconds(5),
        };
        if (Endpoint(llm) is { } endpoint)
        {
            options.Endpoint = endpoint;
        }

        // Ollama ignores the key, but the client needs one.
        var key = new ApiKeyCredential(llm.Provider == LlmProvider.Ollama && llm.ApiKey.Length == 0 ? "ollama" : llm.ApiKey);
        var chat = new OpenAIClient(key, options).GetChatClient(llm.Model).AsIChatClient();
        return new LlmConnection(llm, new BudgetedChatClient(chat, budget), budget, governance, [chat, http, governance]);
    }

    /// <summary>The OpenAI-compatible base URL: as given for openai, Azure OpenAI's v1 API, Ollama's /v1.</summary>
    internal static Uri? Endpoint(LlmSettings llm)
    {
        if (string.IsNullOrWhiteSpace(llm.Endpoint))
        {
            return null;
        }

        var root = llm.Endpoint.TrimEnd('/');
        return llm.Provider switch
        {
            LlmProvider.AzureOpenAI when !root.Contains("/openai", StringComparison.OrdinalIgnoreCase) => new Uri($"{root}/openai/v1/"),
            LlmProvider.Ollama when !root.EndsWith("/v1", StringComparison.OrdinalIgnoreCase) => new Uri($"{root}/v1/"),
            _ => new Uri(root + "/"),
        };
    }

    public void Dispose()
    {
        foreach (var item in owned)
        {
            item.Dispose();
        }
    }
}
