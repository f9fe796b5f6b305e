using Microsoft.Extensions.Configuration;
using NoOrg.Storage;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace NoOrg.Tests.Storage;

/// <summary>
/// Silos on the migrated test database: ADO.NET grain storage with System.Text.Json, ADO.NET reminders, and on
/// PostgreSQL ADO.NET clustering. The database arrives through the test cluster's configuration.
/// </summary>
public sealed class ProviderContractSiloConfigurator : ISiloConfigurator
{
    public const string DialectKey = "NoOrgStorageContract:Dialect";
    public const string ConnectionStringKey = "NoOrgStorageContract:ConnectionString";

    public void Configure(ISiloBuilder siloBuilder)
    {
        var (dialect, connectionString) = Read(siloBuilder.Configuration);
        var invariant = OrleansInvariants.For(dialect);

        siloBuilder.UseSystemTextJsonGrainStorageSerializer();
        siloBuilder.AddAdoNetGrainStorage(StorageProbeGrain.StorageName, o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        });
        siloBuilder.UseAdoNetReminderService(o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        });
        siloBuilder.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));

        if (dialect == StorageDialect.Postgres)
        {
            siloBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = invariant;
                o.ConnectionString = connectionString;
            });

            // Declare a killed silo dead within seconds rather than the default quarter minute.
            siloBuilder.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
            });
        }
    }

    internal static (StorageDialect Dialect, string ConnectionString) Read(IConfiguration configuration) =>
        (Enum.Parse<StorageDialect>(configuration[DialectKey]!), configuration[ConnectionStringKey]!);
}

/// <summary>On PostgreSQL the client finds its gateways through the membership table.</summary>
public sealed class ProviderContractClientConfigurator : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
    {
        var (dialect, connectionString) = ProviderContractSiloConfigurator.Read(configuration);
        if (dialect == StorageDialect.Postgres)
        {
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansInvariants.For(dialect);
                o.ConnectionString = connectionString;
            });
        }
    }
}
