using NoOrg.Cli.Commands;
using NoOrg.Client.Ai;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;

namespace NoOrg.Tests.Ai;

/// <summary>NOORG_LLM_* as the AI worker reads it: validated at start, the key never shown.</summary>
public sealed class LlmSettingsTests
{
    [Fact]
    public void The_default_is_the_offline_model_with_no_budget()
    {
        var settings = AiTesting.Settings();

        Assert.Equal(LlmProvider.Offline, settings.Llm.Provider);
        Assert.Equal(0, settings.Llm.RequestsPerMinute);
        Assert.Equal(0, settings.Llm.Budget);
        Assert.Equal("USD", settings.Llm.Currency);
        using var connection = LlmConnection.Create(settings);
        Assert.Null(connection.Governance);
        Assert.Equal("offline", connection.Model);
    }

    [Fact]
    public void Every_problem_is_reported_together()
    {
        var errors = Assert.Throws<ConfigurationValidationException>(() => AiTesting.Settings(
            ("NOORG_LLM_PROVIDER", "azure-openai"), ("NOORG_LLM_BUDGET", "10"), ("NOORG_LLM_CURRENCY", "dollars"),
            ("NOORG_LLM_REQUESTS_PER_MINUTE", "-1"))).Errors;

        Assert.Contains(errors, e => e.Key == "NOORG_LLM_API_KEY" && e.Problem.Contains("azure-openai", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Key == "NOORG_LLM_ENDPOINT");
        Assert.Contains(errors, e => e.Key == "NOORG_LLM_BUDGET" && e.Problem.Contains("needs a price", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Key == "NOORG_LLM_CURRENCY" && e.Problem.Contains("ISO 4217", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Key == "NOORG_LLM_REQUESTS_PER_MINUTE");
    }

    [Fact]
    public void An_unknown_provider_names_the_allowed_ones()
    {
        var error = Assert.Single(Assert.Throws<ConfigurationValidationException>(() => AiTesting.Settings(("NOORG_LLM_PROVIDER", "none"))).Errors);

        Assert.Contains("offline, openai, azureopenai, ollama", error.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("azure-openai", "https://noorg.openai.azure.com", "https://noorg.openai.azure.com/openai/v1/")]
    [InlineData("ollama", "http://localhost:11434", "http://localhost:11434/v1/")]
    [InlineData("ollama", "http://localhost:11434/v1", "http://localhost:11434/v1/")]
    [InlineData("openai", "http://127.0.0.1:5000/v1", "http://127.0.0.1:5000/v1/")]
    public void Each_provider_is_reached_at_its_OpenAI_compatible_endpoint(string provider, string endpoint, string expected)
    {
        var settings = AiTesting.Settings(("NOORG_LLM_PROVIDER", provider), ("NOORG_LLM_ENDPOINT", endpoint), ("NOORG_LLM_API_KEY", AiTesting.ApiKey));

        Assert.Equal(new Uri(expected), LlmConnection.Endpoint(settings.Llm));
    }

    [Fact]
    public void Config_check_masks_the_api_key()
    {
        var settings = AiTesting.Settings(("NOORG_LLM_PROVIDER", "openai"), ("NOORG_LLM_API_KEY", AiTesting.ApiKey));

        var values = ConfigCommands.EffectiveValues(settings).ToArray();

        Assert.Equal("***", Assert.Single(values, v => v.Key == "NOORG_LLM_API_KEY").Value);
        Assert.DoesNotContain(values, v => v.Value.Contains(AiTesting.ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_instructions_are_all_refused_at_start()
    {
        using var connection = LlmConnection.Create(AiTesting.Settings());
        var options = new AiWorkerOptions()
            .Add("a", new AiInstruction("Hello {{customer}}"))
            .Add("b", new AiInstruction("Fine {{input.x}}", OutputSchema: "[1, 2]"))
            .Add("c", new AiInstruction(""));

        var e = Assert.Throws<ValidationException>(() => AiTesting.Handler(connection, options));

        Assert.Contains(e.Problems, p => p.StartsWith("Instructions[a].Template: '{{customer}}' is not a placeholder", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("Instructions[b].OutputSchema:", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("Instructions[c].Template: must not be empty", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_task_of_an_unknown_type_or_missing_input_fails_saying_what_is_missing()
    {
        using var connection = LlmConnection.Create(AiTesting.Settings());
        var handler = AiTesting.Handler(connection);

        var unknown = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("translate", AiTesting.Ticket), CancellationToken.None));
        var missing = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", """{"text":"hi"}"""), CancellationToken.None));

        Assert.Equal(LlmErrorCodes.InvalidTask, unknown.Code);
        Assert.Contains("no instruction for task type 'translate'; this worker knows: classify", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(LlmErrorCodes.InvalidTask, missing.Code);
        Assert.Contains("needs {{input.customer}}", missing.Message, StringComparison.Ordinal);
    }
}
