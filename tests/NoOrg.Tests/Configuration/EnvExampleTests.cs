using NoOrg.Configuration;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Configuration;

public sealed class EnvExampleTests
{
    private static Dictionary<string, string> ReadEnvExample() =>
        File.ReadAllLines(RepositoryPaths.File(".env.example"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    [Fact]
    public void Env_example_lists_exactly_the_keys_the_settings_bind()
    {
        var documented = ReadEnvExample().Keys.ToHashSet();
        var bound = SettingsCatalog.Keys.ToHashSet();

        Assert.Empty(bound.Except(documented)); // missing from .env.example
        Assert.Empty(documented.Except(bound)); // stale in .env.example
    }

    [Fact]
    public void Env_example_gives_each_key_its_real_default()
    {
        var documented = ReadEnvExample();
        var defaults = SettingsCatalog.Areas.SelectMany(a => a.Settings);

        Assert.All(defaults, s => Assert.Equal(s.Default, documented.GetValueOrDefault(s.Key)));
    }

    [Fact]
    public void Env_example_is_a_valid_configuration_as_it_stands()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(ReadEnvExample().Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build();

        var settings = NoOrgSettings.Load(configuration);

        Assert.Equal(StorageProvider.Sqlite, settings.Storage.Provider);
    }
}
