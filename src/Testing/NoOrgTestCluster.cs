using Microsoft.Extensions.Configuration;
using NoOrg.Configuration;
using NoOrg.Silo.Hosting;
using Orleans.TestingHost;

namespace NoOrg.Testing;

/// <summary>
/// Starts a TestingHost cluster configured like production on a given database. Membership goes through the
/// database for PostgreSQL (as in a real cluster) and through the test cluster's own for SQLite.
/// </summary>
public static class NoOrgTestCluster
{
    /// <summary>Settings every test cluster uses on top of the database: short reminders, fast failure detection, quick outbox retries.</summary>
    public static Dictionary<string, string> SettingsFor(StorageProvider provider, string connectionString) => new()
    {
        ["NOORG_STORAGE_PROVIDER"] = SettingsCatalog.Format(provider),
        ["NOORG_STORAGE_CONNECTION_STRING"] = connectionString,
        ["NOORG_CLUSTER_ID"] = "test-" + Guid.NewGuid().ToString("N")[..8],
        ["NOORG_REMINDERS_MINIMUM_PERIOD_SECONDS"] = "1",
        ["NOORG_TIMEOUTS_PROBE_SECONDS"] = "1",
        ["NOORG_TIMEOUTS_RESPONSE_SECONDS"] = "10",
        ["NOORG_DASHBOARD_ENABLED"] = "false",
        ["NOORG_OUTBOX_RETRY_BASE_MS"] = "50",
        ["NOORG_OUTBOX_MAX_ATTEMPTS"] = "5",
        ["NOORG_OUTBOX_SWEEP_SECONDS"] = "2",
    };

    /// <summary>
    /// Migrates the database like a starting silo does, then deploys <paramref name="silos"/> silos, each with every
    /// <see cref="TestSiloExtensionAttribute"/> configurator of this assembly (test grains, checks, definitions), and a
    /// client with every <see cref="TestClientExtensionAttribute"/> configurator.
    /// </summary>
    public static async Task<TestCluster> StartAsync(IReadOnlyDictionary<string, string> properties, short silos = 2)
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(properties.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build();
        var settings = NoOrgSettings.Load(configuration);
        using var loggers = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        await StorageStartup.PrepareAsync(settings, loggers, CancellationToken.None);

        var builder = new TestClusterBuilder(silos);
        foreach (var (key, value) in properties)
        {
            builder.Properties[key] = value;
        }

        builder.Options.ClusterId = settings.Cluster.ClusterId;
        builder.Options.ServiceId = settings.Cluster.ServiceId;
        builder.Options.UseTestClusterMembership = settings.Storage.Provider != StorageProvider.Postgres;
        builder.AddSiloBuilderConfigurator<NoOrgTestSiloConfigurator>();
        foreach (var extension in TestSiloExtensionAttribute.Configurators)
        {
            builder.Options.SiloBuilderConfiguratorTypes.Add(extension.AssemblyQualifiedName!);
        }

        builder.AddClientBuilderConfigurator<NoOrgTestClientConfigurator>();
        foreach (var extension in TestClientExtensionAttribute.Configurators)
        {
            builder.Options.ClientBuilderConfiguratorTypes.Add(extension.AssemblyQualifiedName!);
        }

        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
