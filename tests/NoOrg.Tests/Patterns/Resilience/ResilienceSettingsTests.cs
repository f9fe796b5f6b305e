using NoOrg.Configuration;

namespace NoOrg.Tests.Patterns.Resilience;

public sealed class ResilienceSettingsTests
{
    [Fact]
    public void A_destination_override_changes_only_its_own_keys()
    {
        var settings = Load("openai:retries=5,breakSeconds=90;hooks.example.com:maxConcurrency=4;webhook:hooks.example.org:443:retries=1");

        var openai = settings.Resilience.For("OpenAI");
        Assert.Equal((5, TimeSpan.FromSeconds(90), 32), (openai.RetryAttempts, openai.BreakerBreakDuration, openai.MaxConcurrency));
        Assert.Equal(4, settings.Resilience.For("hooks.example.com").MaxConcurrency);
        Assert.Equal(1, settings.Resilience.For("webhook:hooks.example.org:443").RetryAttempts);
        Assert.Equal(settings.Resilience.Defaults, settings.Resilience.For("anything-else"));
    }

    [Fact]
    public void Bad_overrides_are_reported_with_the_destination_and_key()
    {
        var error = Assert.Throws<ConfigurationValidationException>(() => Load("openai:retries=50;broken;hooks:attemptTimeoutSeconds=120,totalTimeoutSeconds=60"));

        Assert.Contains(error.Errors, e => e.Problem.Contains("destination 'openai': 'retries=50'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Problem.Contains("'broken' must look like", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Problem.Contains("destination 'hooks': the attempt timeout exceeds the total timeout", StringComparison.Ordinal));
    }

    private static NoOrgSettings Load(string destinations) => NoOrgSettings.Load(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["NOORG_RESILIENCE_DESTINATIONS"] = destinations })
        .Build());
}
