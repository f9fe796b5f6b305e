using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NoOrg.Client;
using NoOrg.Configuration;
using NoOrg.Grains;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Sagas;
using NoOrg.Silo.Security;
using NoOrg.Storage;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Providers;
using Orleans.Storage;

namespace NoOrg.Silo.Hosting;

/// <summary>How every NoOrg silo is built: the host in production and the test clusters alike.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>Storage, reminders, timeouts and the dashboard: everything but membership and endpoints.</summary>
    public static ISiloBuilder AddNoOrg(this ISiloBuilder silo, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var storage = settings.Storage;
        var invariant = OrleansInvariants.For(storage.Provider.ToDialect());
        var connectionString = storage.EffectiveConnectionString;

        silo.Services.AddSingleton(settings);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.Cluster.ClusterId;
            o.ServiceId = settings.Cluster.ServiceId;
        });

        // At most one activation of a grain, also while a lost silo's directory partition is rebuilt: with the default
        // (eventually consistent) directory, an activation could outlive a silo kill beside a newer one and answer from
        // stale memory for ever (seen as a completed task read back as running).
        // Orleans marks it experimental (ORLEANSEXP003); it is the directory its own docs now recommend over external ones.
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        silo.UseSystemTextJsonGrainStorageSerializer();
        silo.AddActivityPropagation(); // grain calls carry the caller's trace; spans only while something listens
        silo.Services.AddNoOrgLogTraceIds();
        // Both stores open their connections from the silo's one pool (IndexDatabase.Source), as the reminders and
        // membership do: one set of settings (auto-prepared statements on PostgreSQL, SQLite waiting for its write
        // lock) for every statement.
        silo.AddNoOrgGrainStorage(StorageNames.Default, invariant);
        // Orleans keeps the streams' bookkeeping (producers, subscriptions) in the store named like the stream
        // provider, else in PubSubStore; NoOrg's store has another name, so it lands here, in a format that reads back.
        silo.AddNoOrgGrainStorage(ProviderConstants.DEFAULT_PUBSUB_PROVIDER_NAME, invariant);
        silo.Services.AddKeyedSingleton<IGrainStorageSerializer, StreamStateSerializer>(ProviderConstants.DEFAULT_PUBSUB_PROVIDER_NAME);
        // Watchers expect events within milliseconds; the pulling agents' default 100 ms poll would dominate.
        silo.AddMemoryStreams(NoOrgStreams.Provider, streams => streams.ConfigurePullingAgent(agent =>
            agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(10))));
        silo.Services.AddNoOrgGrainCallAccess(); // before the grains' own filters: a refused call reaches none of them
        silo.Services.AddNoOrgGrainServices(storage.Provider.ToDialect(), connectionString);
        if (settings.Sagas.RunDemo)
        {
            silo.Services.AddNoOrgSaga(DemoOrderSaga.Definition);
        }
        silo.UseAdoNetReminderService(o => o.Configure<IndexDatabase>((options, database) =>
        {
            options.Invariant = invariant;
            options.DataSource = database.Source;
        }));
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(settings.Reminders.MinimumPeriodSeconds));

        var timeouts = settings.Timeouts;
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(timeouts.ResponseSeconds));
        silo.Configure<GrainDirectoryOptions>(o => o.RangeLeaseDuration = TimeSpan.FromSeconds(timeouts.DirectoryLeaseSeconds));
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(timeouts.ProbeSeconds);
            o.NumMissedProbesLimit = timeouts.MissedProbesLimit;
            // Dead silos' membership rows go after this long (the Orleans default keeps them a week, and never fewer than
            // an hour whatever the expiration says: the setting is the one bound, so both follow it).
            o.DefunctSiloExpiration = TimeSpan.FromMinutes(settings.Retention.DefunctSiloMinutes);
            o.DefunctSiloMinimumRetention = TimeSpan.FromMinutes(settings.Retention.DefunctSiloMinutes);
            o.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(settings.Retention.DefunctSiloCleanupMinutes);
        });

        if (settings.Dashboard.Enabled)
        {
            silo.AddDashboard(o =>
            {
                o.CounterUpdateIntervalMs = settings.Dashboard.CounterUpdateIntervalMs;
                o.HistoryLength = settings.Dashboard.HistoryLength;
            });
        }

        if (settings.Observability.MetricsEnabled)
        {
            silo.Services.AddNoOrgClusterGauges();
        }

        silo.AddStartupTask<SiloStartRecorder>();
        silo.AddStartupTask<BackgroundGrainsStarter>();
        return silo;
    }

    /// <summary>
    /// A grain storage provider on a database, whose failures to reach it surface as the retryable
    /// <c>UnavailableException</c>, also when they happen while a grain activates.
    /// </summary>
    public static ISiloBuilder AddNoOrgGrainStorage(this ISiloBuilder silo, string name, string invariant, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddAdoNetGrainStorage(name, o =>
        {
            o.Invariant = invariant;
            o.ConnectionString = connectionString;
        });
        silo.Services.AddTypedStorageErrors(name);
        return silo;
    }

    /// <summary>The same, on the silo's own database, through its one pool of connections.</summary>
    private static void AddNoOrgGrainStorage(this ISiloBuilder silo, string name, string invariant)
    {
        silo.AddAdoNetGrainStorage(name, o => o.Configure<IndexDatabase>((options, database) =>
        {
            options.Invariant = invariant;
            options.DataSource = database.Source;
        }));
        silo.Services.AddTypedStorageErrors(name);
    }

    /// <summary>
    /// Membership: localhost for the embedded SQLite default, the database for a PostgreSQL cluster.
    /// Endpoints are left to the caller when <paramref name="configureEndpoints"/> is false (test clusters pick ports).
    /// </summary>
    public static ISiloBuilder UseNoOrgClustering(this ISiloBuilder silo, NoOrgSettings settings, bool configureEndpoints = true)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var cluster = settings.Cluster;
        if (settings.Storage.Provider == StorageProvider.Sqlite)
        {
            if (configureEndpoints)
            {
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, null, cluster.ServiceId, cluster.ClusterId);
            }

            return silo;
        }

        silo.UseAdoNetClustering(o => o.Configure<IndexDatabase>((options, database) =>
        {
            options.Invariant = OrleansInvariants.For(StorageDialect.Postgres);
            options.DataSource = database.Source;
        }));
        if (configureEndpoints)
        {
            silo.ConfigureEndpoints(AdvertisedAddress(cluster), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
        }

        return silo;
    }

    private static IPAddress AdvertisedAddress(ClusterSettings cluster)
    {
        if (!string.IsNullOrEmpty(cluster.AdvertisedAddress))
        {
            return IPAddress.Parse(cluster.AdvertisedAddress);
        }

        // The first up, non-loopback IPv4 address: what other silos on the network can reach.
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
    }
}
