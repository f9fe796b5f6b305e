using System.Globalization;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using NoOrg.Silo.Hosting;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Npgsql;
using Orleans.TestingHost;

namespace NoOrg.Tests.Errors;

/// <summary>
/// A grain whose state cannot be loaded while it activates (its database refuses connections, as during an outage):
/// the caller gets the typed, retryable <see cref="UnavailableException"/>, never a driver type it cannot read, and
/// the client library retries it until the database is back.
/// </summary>
public sealed class ActivationErrorTests
{
    private const int ClientRetries = 2;

    [PostgresFact]
    public async Task A_state_load_failing_during_activation_reaches_the_client_as_unavailable_and_is_retried()
    {
        await using var outage = await TestDatabases.CreatePostgresAsync();
        await StorageStartup.PrepareAsync(Load(NoOrgTestCluster.SettingsFor(StorageProvider.Postgres, outage.ConnectionString)),
            NullLoggerFactory.Instance, CancellationToken.None);
        // No pool: every state load opens a connection, so a refused connect right takes effect at once.
        var probeStorage = new NpgsqlConnectionStringBuilder(outage.ConnectionString) { Pooling = false }.ConnectionString;

        var settings = new Dictionary<string, string>
        {
            [OutageProbeStorage.ConnectionStringKey] = probeStorage,
            ["NOORG_TIMEOUTS_CLIENT_RETRY_ATTEMPTS"] = ClientRetries.ToString(CultureInfo.InvariantCulture),
        };
        await OwnCluster.RunAsync(StorageProvider.Postgres, settings, async cluster =>
        {
            var client = cluster.Client;
            var (before, down, recovering) = ($"before-{Guid.NewGuid():N}", $"down-{Guid.NewGuid():N}", $"recovering-{Guid.NewGuid():N}");
            Assert.Equal(0, await client.GetGrain<IOutageProbeGrain>(before).GetAsync());

            await AllowConnectAsync(outage.Name, allowed: false);
            try
            {
                var error = await Assert.ThrowsAsync<UnavailableException>(() => client.GetGrain<IOutageProbeGrain>(down).GetAsync());
                Assert.Equal("unavailable", error.Code);
                Assert.Contains(OutageProbeStorage.Name, error.Message, StringComparison.Ordinal);
                Assert.Equal(1 + ClientRetries, FailedProbeAttempts.Of(down));

                // The database comes back while the client is retrying: the call succeeds.
                var recovered = client.GetGrain<IOutageProbeGrain>(recovering).GetAsync();
                await Eventually.ReturnsAsync(() => Task.FromResult(FailedProbeAttempts.Of(recovering)), n => n >= 1, TimeSpan.FromSeconds(30),
                    "the first attempt to fail");
                await AllowConnectAsync(outage.Name, allowed: true);
                Assert.Equal(0, await recovered);
                Assert.InRange(FailedProbeAttempts.Of(recovering), 1, ClientRetries);
            }
            finally
            {
                await AllowConnectAsync(outage.Name, allowed: true);
            }
        });
    }

    private static NoOrgSettings Load(IReadOnlyDictionary<string, string> values) => NoOrgSettings.Load(
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build());

    /// <summary>Grants or revokes the right to connect to the probe's database, for everyone including its owner.</summary>
    private static async Task AllowConnectAsync(string database, bool allowed)
    {
        var sql = allowed
            ? $"GRANT CONNECT ON DATABASE \"{database}\" TO PUBLIC, CURRENT_USER"
            : $"REVOKE CONNECT ON DATABASE \"{database}\" FROM PUBLIC, CURRENT_USER";
        await using var connection = new NpgsqlConnection(TestDatabases.PostgresAdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// Counts the failed attempts of probe calls per grain key. Added to every test client after the retry filter, so it
/// sees each attempt; keys are unique per test, so clusters running side by side do not mix their counts.
/// </summary>
[TestClientExtension]
public sealed class FailedProbeAttempts : IOutgoingGrainCallFilter, IClientBuilderConfigurator
{
    private static readonly ConcurrentDictionary<string, int> Failed = new(StringComparer.Ordinal);

    public static int Of(string key) => Failed.GetValueOrDefault(key);

    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) => clientBuilder.AddOutgoingGrainCallFilter(this);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var probe = context.Request.GetInterfaceType() == typeof(IOutageProbeGrain);
        try
        {
            await context.Invoke();
        }
        catch (Exception) when (probe)
        {
            Record(context);
            throw;
        }

        if (probe && context.Response?.Exception is not null)
        {
            Record(context);
        }
    }

    private static void Record(IOutgoingGrainCallContext context) => Failed.AddOrUpdate(context.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
}
