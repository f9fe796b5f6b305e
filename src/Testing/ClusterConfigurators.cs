using Microsoft.Extensions.Configuration;
using NoOrg.Client;
using NoOrg.Configuration;
using NoOrg.Silo.Hosting;
using Orleans.TestingHost;

namespace NoOrg.Testing;

/// <summary>
/// Builds each test silo exactly as the silo host does (<see cref="SiloBuilderExtensions.AddNoOrg"/>) from the
/// NOORG_* settings the cluster was created with; only ports come from the test cluster.
/// </summary>
public sealed class NoOrgTestSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        var settings = NoOrgSettings.Load(siloBuilder.Configuration);
        siloBuilder.AddNoOrg(settings);
        if (settings.Storage.Provider == StorageProvider.Postgres)
        {
            siloBuilder.UseNoOrgClustering(settings, configureEndpoints: false);
        }
    }
}

public sealed class NoOrgTestClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
    {
        var settings = NoOrgSettings.Load(configuration);
        var viaDatabase = settings.Storage.Provider == StorageProvider.Postgres;
        clientBuilder.UseNoOrg(settings, configureGateways: viaDatabase);
    }
}
