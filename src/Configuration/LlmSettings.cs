using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace NoOrg.Configuration;

/// <summary>offline answers from the prompt itself (no network, no key); the others call a model.</summary>
public enum LlmProvider { Offline, OpenAI, AzureOpenAI, Ollama }

[SettingsArea("NOORG_LLM", "LLM provider")]
public sealed class LlmSettings
{
    [Setting("PROVIDER", "offline, openai, azure-openai or ollama; offline answers deterministically from the prompt, with no network and no key")]
    public LlmProvider Provider { get; set; } = LlmProvider.Offline;

    [Setting("ENDPOINT", "base URL of the provider's API; empty uses OpenAI's public endpoint (required for azure-openai: https://RESOURCE.openai.azure.com, and ollama: http://HOST:11434)")]
    [HttpUrl]
    public string Endpoint { get; set; } = "";

    [Setting("API_KEY", "API key for openai and azure-openai; never printed or logged")]
    [Secret]
    public string ApiKey { get; set; } = "";

    [Setting("MODEL", "model name (the deployment name for azure-openai)")]
    public string Model { get; set; } = "gpt-4o-mini";

    [Setting("TIMEOUT_SECONDS", "timeout of one request to the provider")]
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 60;

    [Setting("MAX_RETRIES", "retries of a request that got 408, 429 or 5xx (honouring Retry-After), timed out or could not connect")]
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    [Setting("REQUESTS_PER_MINUTE", "requests sent to the provider per minute by one worker process; further ones wait their turn (0: no limit)")]
    [Range(0, 1_000_000)]
    public int RequestsPerMinute { get; set; }

    [Setting("BUDGET", "what one worker process may spend on the provider, in NOORG_LLM_CURRENCY; once spent, calls are refused (0: no budget)")]
    [Range(0.0, 1_000_000_000.0)]
    public double Budget { get; set; }

    [Setting("CURRENCY", "currency of the prices and the budget (ISO 4217 code)")]
    public string Currency { get; set; } = "USD";

    [Setting("INPUT_PRICE_PER_1K", "price of 1000 input (prompt) tokens")]
    [Range(0.0, 1_000_000.0)]
    public double InputPricePer1K { get; set; }

    [Setting("OUTPUT_PRICE_PER_1K", "price of 1000 output (completion) tokens")]
    [Range(0.0, 1_000_000.0)]
    public double OutputPricePer1K { get; set; }

    /// <summary>Whether the provider needs the network (and so the governance pipeline).</summary>
    public bool IsRemote => Provider != LlmProvider.Offline;

    internal IEnumerable<SettingError> Validate()
    {
        if (Provider is LlmProvider.OpenAI or LlmProvider.AzureOpenAI && string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return new SettingError("NOORG_LLM_API_KEY", null, $"is required when NOORG_LLM_PROVIDER={Name(Provider)}");
        }

        if (Provider is LlmProvider.AzureOpenAI or LlmProvider.Ollama && string.IsNullOrWhiteSpace(Endpoint))
        {
            yield return new SettingError("NOORG_LLM_ENDPOINT", null, $"is required when NOORG_LLM_PROVIDER={Name(Provider)}");
        }

        if (IsRemote && string.IsNullOrWhiteSpace(Model))
        {
            yield return new SettingError("NOORG_LLM_MODEL", null, "must name a model when a provider is set");
        }

        if (Currency.Length != 3 || !Currency.All(char.IsAsciiLetterUpper))
        {
            yield return new SettingError("NOORG_LLM_CURRENCY", Currency, "expected a three-letter upper-case ISO 4217 code such as USD or EUR");
        }

        if (Budget > 0 && InputPricePer1K == 0 && OutputPricePer1K == 0)
        {
            yield return new SettingError("NOORG_LLM_BUDGET", Budget.ToString(CultureInfo.InvariantCulture),
                "a budget needs a price: set NOORG_LLM_INPUT_PRICE_PER_1K or NOORG_LLM_OUTPUT_PRICE_PER_1K, or nothing is ever spent");
        }
    }

    /// <summary>The provider as NOORG_LLM_PROVIDER spells it.</summary>
    public static string Name(LlmProvider provider) => provider switch
    {
        LlmProvider.AzureOpenAI => "azure-openai",
        _ => SettingsCatalog.Format(provider),
    };
}
