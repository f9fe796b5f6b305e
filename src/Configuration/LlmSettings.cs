using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

public enum LlmProvider { None, OpenAI, AzureOpenAI, Ollama }

[SettingsArea("NOORG_LLM", "LLM provider")]
public sealed class LlmSettings
{
    [Setting("PROVIDER", "none, openai, azureopenai or ollama")]
    public LlmProvider Provider { get; set; } = LlmProvider.None;

    [Setting("ENDPOINT", "base URL of the provider's API; empty uses the provider's public endpoint (required for azureopenai and ollama)")]
    [HttpUrl]
    public string Endpoint { get; set; } = "";

    [Setting("API_KEY", "API key for openai and azureopenai")]
    [Secret]
    public string ApiKey { get; set; } = "";

    [Setting("MODEL", "model or deployment name")]
    public string Model { get; set; } = "gpt-4o-mini";

    [Setting("TIMEOUT_SECONDS", "timeout of one request to the provider")]
    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 60;

    [Setting("MAX_RETRIES", "retries of a failed provider request")]
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    internal IEnumerable<SettingError> Validate()
    {
        if (Provider is LlmProvider.OpenAI or LlmProvider.AzureOpenAI && string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return new SettingError("NOORG_LLM_API_KEY", null, $"is required when NOORG_LLM_PROVIDER={SettingsCatalog.Format(Provider)}");
        }

        if (Provider is LlmProvider.AzureOpenAI or LlmProvider.Ollama && string.IsNullOrWhiteSpace(Endpoint))
        {
            yield return new SettingError("NOORG_LLM_ENDPOINT", null, $"is required when NOORG_LLM_PROVIDER={SettingsCatalog.Format(Provider)}");
        }

        if (Provider != LlmProvider.None && string.IsNullOrWhiteSpace(Model))
        {
            yield return new SettingError("NOORG_LLM_MODEL", null, "must name a model when a provider is set");
        }
    }
}
