using NoOrg.Configuration;
using Orleans.TestingHost;

namespace NoOrg.Tests.Infrastructure;

/// <summary>A cluster of its own for one test, on a fresh database, with settings on top of the test defaults.</summary>
public static class OwnCluster
{
    public static async Task RunAsync(StorageProvider provider, IReadOnlyDictionary<string, string> settings, Func<TestCluster, Task> test)
    {
        var created = await ClusterDatabases.CreateAsync(provider);
        Skip.If(created is null, ClusterDatabases.SkipReason(provider));
        var (database, storage, connectionString) = created.Value;
        await using var _ = database;
        var properties = NoOrgTestCluster.SettingsFor(storage, connectionString);
        foreach (var (key, value) in settings)
        {
            properties[key] = value;
        }

        var cluster = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            await test(cluster);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
