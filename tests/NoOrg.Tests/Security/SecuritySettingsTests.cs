using Microsoft.Extensions.Configuration;
using NoOrg.Configuration;

namespace NoOrg.Tests.Security;

/// <summary>The security settings added for stored keys and JWTs are validated at start, every problem at once.</summary>
public sealed class SecuritySettingsTests
{
    private static IReadOnlyList<SettingError> Errors(params (string Key, string Value)[] values) =>
        Assert.Throws<ConfigurationValidationException>(() => NoOrgSettings.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build())).Errors;

    [Fact]
    public void A_jwt_issuer_needs_an_audience_and_key_files_that_read()
    {
        var missing = Path.Combine(Path.GetTempPath(), "noorg-no-such-key-" + Guid.NewGuid().ToString("N") + ".pem");
        var shortSecret = Path.GetTempFileName();
        File.WriteAllText(shortSecret, "too short");
        try
        {
            var errors = Errors(("NOORG_SECURITY_JWT_ISSUER", "https://issuer"), ("NOORG_SECURITY_JWT_KEY_FILES", $"{missing},{shortSecret}"),
                ("NOORG_SECURITY_API_KEY_PEPPER", "short"));

            Assert.Contains(errors, e => e.Key == "NOORG_SECURITY_JWT_AUDIENCE");
            Assert.Contains(errors, e => e.Key == "NOORG_SECURITY_JWT_KEY_FILES" && e.Problem.Contains(missing, StringComparison.Ordinal));
            Assert.Contains(errors, e => e.Key == "NOORG_SECURITY_JWT_KEY_FILES" && e.Problem.Contains("at least 32 bytes", StringComparison.Ordinal));
            Assert.Contains(errors, e => e.Key == "NOORG_SECURITY_API_KEY_PEPPER" && e.Value == "***");
            Assert.DoesNotContain(errors, e => e.ToString().Contains("too short", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(shortSecret);
        }
    }

    [Fact]
    public void A_jwt_audience_without_an_issuer_is_refused()
    {
        Assert.Contains(Errors(("NOORG_SECURITY_JWT_AUDIENCE", "api")), e => e.Key == "NOORG_SECURITY_JWT_ISSUER");
    }
}
