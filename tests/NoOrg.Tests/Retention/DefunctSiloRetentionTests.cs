using System.Globalization;
using NoOrg.Configuration;
using NoOrg.Storage;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace NoOrg.Tests.Retention;

/// <summary>
/// A killed silo's Dead row leaves the membership table once older than NOORG_RETENTION_DEFUNCT_SILO_MINUTES: Orleans
/// keeps dead rows at least an hour unless told otherwise, so this fails if the setting does not reach its minimum
/// retention too. Orleans cleans up when it sees a membership change, so a silo joins after the row has expired.
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class DefunctSiloRetentionTests(ITestOutputHelper output)
{
    private const int Dead = 6; // Orleans' SiloStatus.Dead as the membership table stores it

    [SkippableFact]
    public async Task A_dead_silo_row_goes_once_older_than_its_retention()
    {
        var created = await ClusterDatabases.CreateAsync(StorageProvider.Postgres);
        Skip.If(created is null, ClusterDatabases.SkipReason(StorageProvider.Postgres));
        await using var database = created.Value.Database;
        var connectionString = created.Value.ConnectionString;
        var properties = NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, connectionString);
        properties["NOORG_RETENTION_DEFUNCT_SILO_MINUTES"] = "0.05"; // 3 s
        properties["NOORG_RETENTION_DEFUNCT_SILO_CLEANUP_MINUTES"] = "0.05";
        var cluster = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            var victim = cluster.SecondarySilos[0];
            await cluster.KillSiloAsync(victim);
            await Eventually.ReturnsAsync(() => DeadRowsAsync(connectionString, cluster), n => n == 1, TimeSpan.FromSeconds(60), "the killed silo to be declared dead");

            await Task.Delay(TimeSpan.FromSeconds(4)); // older than its retention now
            var joined = await cluster.StartAdditionalSiloAsync();
            await Eventually.ReturnsAsync(() => DeadRowsAsync(connectionString, cluster), n => n == 0, TimeSpan.FromSeconds(60),
                "the dead silo's row to be removed after it expired");
            Assert.Equal(2, await RowsAsync(connectionString, cluster, "status = 3")); // the two active silos stay (Active = 3)
            output.WriteLine($"dead row of {victim.SiloAddress} removed after {joined.SiloAddress} joined");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static Task<long> DeadRowsAsync(string connectionString, TestCluster cluster) =>
        RowsAsync(connectionString, cluster, "status = " + Dead.ToString(CultureInfo.InvariantCulture));

    private static async Task<long> RowsAsync(string connectionString, TestCluster cluster, string where)
    {
        await using var connection = await StorageConnections.OpenAsync(StorageDialect.Postgres, connectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, $"SELECT COUNT(*) FROM orleans_membership WHERE deployment_id = @cluster AND {where}");
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@cluster";
        parameter.Value = cluster.Options.ClusterId;
        command.Parameters.Add(parameter);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
