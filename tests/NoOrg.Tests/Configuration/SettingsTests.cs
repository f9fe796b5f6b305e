using Microsoft.Extensions.Configuration;
using NoOrg.Configuration;

namespace NoOrg.Tests.Configuration;

public sealed class SettingsTests
{
    private static NoOrgSettings Load(params (string Key, string Value)[] values) =>
        NoOrgSettings.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build());

    private static IReadOnlyList<SettingError> Errors(params (string Key, string Value)[] values) =>
        Assert.Throws<ConfigurationValidationException>(() => Load(values)).Errors;

    [Fact]
    public void No_configuration_gives_the_embedded_default()
    {
        var settings = Load();

        Assert.Equal(StorageProvider.Sqlite, settings.Storage.Provider);
        Assert.EndsWith("noorg.db", settings.Storage.EffectiveConnectionString, StringComparison.Ordinal);
        Assert.Equal(11111, settings.Cluster.SiloPort);
        Assert.True(settings.Dashboard.Enabled);
        Assert.False(settings.General.IsProduction);
    }

    [Fact]
    public void Values_are_parsed_by_type()
    {
        var settings = Load(
            ("NOORG_CLUSTER_GATEWAY_PORT", "31000"), ("NOORG_DASHBOARD_ENABLED", "no"),
            ("NOORG_STORAGE_PROVIDER", "Postgres"), ("NOORG_STORAGE_CONNECTION_STRING", "Host=db;Username=u;Password=p"),
            ("NOORG_LLM_PROVIDER", "azure-openai"), ("NOORG_LLM_ENDPOINT", "https://example.test/"), ("NOORG_LLM_API_KEY", "k"));

        Assert.Equal(31000, settings.Cluster.GatewayPort);
        Assert.False(settings.Dashboard.Enabled);
        Assert.Equal(StorageProvider.Postgres, settings.Storage.Provider);
        Assert.Equal(LlmProvider.AzureOpenAI, settings.Llm.Provider);
    }

    [Fact]
    public void Every_problem_is_reported_together_with_key_value_and_what_is_allowed()
    {
        var errors = Errors(("NOORG_CLUSTER_SILO_PORT", "abc"), ("NOORG_STORAGE_PROVIDER", "oracle"));

        Assert.Equal(2, errors.Count);
        var port = Assert.Single(errors, e => e.Key == "NOORG_CLUSTER_SILO_PORT");
        Assert.Equal("abc", port.Value);
        Assert.Contains("whole number", port.Problem, StringComparison.Ordinal);
        var provider = Assert.Single(errors, e => e.Key == "NOORG_STORAGE_PROVIDER");
        Assert.Equal("oracle", provider.Value);
        Assert.Contains("sqlite, postgres", provider.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NOORG_DASHBOARD_ENABLED", "maybe", "boolean")]
    [InlineData("NOORG_CLUSTER_GATEWAY_PORT", "70000", "between 1 and 65535")]
    [InlineData("NOORG_TIMEOUTS_PROBE_SECONDS", "0", "between 1 and 60")]
    [InlineData("NOORG_LLM_ENDPOINT", "ftp://nope", "http")]
    [InlineData("NOORG_HTTP_URLS", "localhost:8080", "not an absolute")]
    [InlineData("NOORG_ENVIRONMENT", "prod", "development, staging, production")]
    [InlineData("NOORG_DASHBOARD_PATH", "dashboard", "leading '/'")]
    [InlineData("NOORG_CLUSTER_ADVERTISED_ADDRESS", "my-host", "IPv4 or IPv6")]
    [InlineData("NOORG_CLUSTER_GATEWAYS", "a:1,b", "'b' is not host:port")]
    public void A_bad_value_is_a_typed_error_naming_the_key(string key, string value, string expected)
    {
        var error = Assert.Single(Errors((key, value)));

        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Postgres_needs_a_valid_connection_string()
    {
        var missing = Assert.Single(Errors(("NOORG_STORAGE_PROVIDER", "postgres")));
        Assert.Equal("NOORG_STORAGE_CONNECTION_STRING", missing.Key);

        var invalid = Assert.Single(Errors(("NOORG_STORAGE_PROVIDER", "postgres"), ("NOORG_STORAGE_CONNECTION_STRING", "Hots=db;Password=secret")));
        Assert.Contains("not a valid PostgreSQL connection string", invalid.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", invalid.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Production_refuses_development_security_defaults()
    {
        var errors = Errors(("NOORG_ENVIRONMENT", "production"));

        var requireAuth = Assert.Single(errors, e => e.Key == "NOORG_SECURITY_REQUIRE_AUTH");
        Assert.Contains(errors, e => e.Key == "NOORG_SECURITY_API_KEYS");
        Assert.Contains("on every grain call from a client", requireAuth.Problem, StringComparison.Ordinal);
        Assert.All(["NOORG_SECURITY_API_KEYS", "NOORG_SECURITY_API_KEY_PEPPER", "NOORG_SECURITY_CLIENT_CREDENTIAL"],
            key => Assert.Contains(key, requireAuth.Problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Production_with_auth_and_strong_keys_is_accepted()
    {
        var settings = Load(("NOORG_ENVIRONMENT", "production"), ("NOORG_SECURITY_REQUIRE_AUTH", "true"),
            ("NOORG_SECURITY_API_KEYS", new string('k', 32)));

        Assert.True(settings.Security.RequireAuth);
    }

    [Fact]
    public void Short_api_keys_are_rejected_without_echoing_them()
    {
        var error = Assert.Single(Errors(("NOORG_SECURITY_API_KEYS", "short-key")));

        Assert.Equal("NOORG_SECURITY_API_KEYS", error.Key);
        Assert.DoesNotContain("short-key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Llm_provider_requirements_are_checked()
    {
        var errors = Errors(("NOORG_LLM_PROVIDER", "azureopenai"));

        Assert.Contains(errors, e => e.Key == "NOORG_LLM_API_KEY");
        Assert.Contains(errors, e => e.Key == "NOORG_LLM_ENDPOINT");
    }
}
