using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using Orleans.Configuration;

namespace NoOrg.Client;

/// <summary>Connects any .NET app to a NoOrg cluster with one call.</summary>
public static class ClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds an Orleans client for the NoOrg cluster described by <paramref name="configuration"/> (the same
    /// NOORG_* keys the silo reads). With no configuration it finds a silo on this machine's embedded default.
    /// Throws <see cref="ConfigurationValidationException"/> listing every bad key.
    /// </summary>
    public static IServiceCollection AddNoOrgClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddNoOrgClient(NoOrgSettings.Load(configuration));
    }

    public static IServiceCollection AddNoOrgClient(this IServiceCollection services, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(settings);
        services.AddOrleansClient(client => client.UseNoOrg(settings));
        services.AddNoOrgClientApi();
        services.AddNoOrgLogTraceIds();
        return services;
    }

    /// <summary>
    /// Log lines written inside a span carry its trace, span and parent ids as a scope, which console formatters show
    /// with <c>IncludeScopes</c> and structured sinks keep as fields.
    /// </summary>
    public static IServiceCollection AddNoOrgLogTraceIds(this IServiceCollection services) =>
        services.Configure<LoggerFactoryOptions>(o =>
            o.ActivityTrackingOptions |= ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

    /// <summary>
    /// <see cref="INoOrgClient"/> over the <see cref="IClusterClient"/> already registered (a test cluster's, for
    /// instance); <paramref name="configure"/> sets who changes are recorded as.
    /// </summary>
    public static IServiceCollection AddNoOrgClientApi(this IServiceCollection services, Action<NoOrgClientOptions>? configure = null)
    {
        services.AddOptions<NoOrgClientOptions>().Configure(o => configure?.Invoke(o));
        services.TryAddSingleton<INoOrgClient, NoOrgClient>();
        return services;
    }

    /// <summary>
    /// The client side of a NoOrg cluster: identity, its credential (<see cref="CredentialFilter"/>), timeouts, connection and call retries, text that survives the
    /// wire (<see cref="WellFormedTextFilter"/>), and (unless the caller provides them, as a test cluster does) how
    /// gateways are found.
    /// </summary>
    public static IClientBuilder UseNoOrg(this IClientBuilder client, NoOrgSettings settings, bool configureGateways = true)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.Cluster.ClusterId;
            o.ServiceId = settings.Cluster.ServiceId;
        });
        if (configureGateways)
        {
            UseGateways(client, settings);
        }

        client.AddMemoryStreams(NoOrg.Grains.NoOrgStreams.Provider);
        client.AddActivityPropagation(); // a grain call made in a span carries its trace (no span is made while nothing listens)
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(settings.Timeouts.ResponseSeconds));
        client.UseConnectionRetryFilter(new GatewayConnectionRetry(TimeSpan.FromSeconds(settings.Timeouts.ClientConnectSeconds)));
        if (settings.Security.ClientCredential.Length > 0)
        {
            client.AddOutgoingGrainCallFilter(new CredentialFilter(settings.Security.ClientCredential.Trim()));
        }

        client.AddOutgoingGrainCallFilter(new WellFormedTextFilter());
        client.AddOutgoingGrainCallFilter(new TransientErrorRetryFilter(settings.Timeouts.ClientRetryAttempts));
        client.AddOutgoingGrainCallFilter(new NoOrg.Grains.Errors.WrappedErrorFilter()); // inside the retries: they see the NoOrg error
        return client;
    }

    private static void UseGateways(IClientBuilder client, NoOrgSettings settings)
    {
        var cluster = settings.Cluster;
        var listed = cluster.GatewayEndpoints().ToArray();
        if (listed.Length > 0)
        {
            client.UseStaticClustering([.. listed.Select(Resolve)]);
        }
        else if (settings.Storage.Provider == StorageProvider.Postgres)
        {
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = settings.Storage.ConnectionString;
            });
        }
        else
        {
            client.UseLocalhostClustering(cluster.GatewayPort, cluster.ServiceId, cluster.ClusterId);
        }
    }

    private static IPEndPoint Resolve(string endpoint)
    {
        ClusterSettings.TryParseEndpoint(endpoint, out var host, out var port);
        var address = IPAddress.TryParse(host, out var ip) ? ip
            : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
              ?? throw new InvalidOperationException($"NOORG_CLUSTER_GATEWAYS: host '{host}' has no IPv4 address.");
        return new IPEndPoint(address, port);
    }
}
