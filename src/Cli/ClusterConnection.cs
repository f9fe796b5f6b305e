using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NoOrg.Client;
using NoOrg.Configuration;

namespace NoOrg.Cli;

/// <summary>A connected cluster client for the lifetime of one command.</summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost host;

    internal const string ConnectPatienceKey = "NOORG_TIMEOUTS_CLIENT_CONNECT_SECONDS";
    private const int CommandConnectSeconds = 2;

    private ClusterConnection(IHost host) => this.host = host;

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterConnection> OpenAsync(NoOrgSettings settings, bool verbose, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (verbose)
        {
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Information);
        }

        // A command answers at once: unless told otherwise, it tries the gateway for a few seconds, not an app's 30.
        if (NoOrgConfiguration.Build()[ConnectPatienceKey] is null)
        {
            settings.Timeouts.ClientConnectSeconds = Math.Min(settings.Timeouts.ClientConnectSeconds, CommandConnectSeconds);
        }

        builder.Services.AddNoOrgClient(settings);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new CliException($"cannot reach a NoOrg silo ({Describe(settings)}) within {settings.Timeouts.ClientConnectSeconds}s: {e.Message.TrimEnd('.')}. Start one with: dotnet run --project src/Silo ({ConnectPatienceKey} waits longer)", e);
        }

        return new ClusterConnection(host);
    }

    private static string Describe(NoOrgSettings settings) =>
        settings.Cluster.GatewayEndpoints().Any() ? $"gateways {settings.Cluster.Gateways}"
        : settings.Storage.Provider == StorageProvider.Postgres ? "gateways from the PostgreSQL membership table"
        : $"gateway localhost:{settings.Cluster.GatewayPort}";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            host.Dispose();
        }
    }
}
