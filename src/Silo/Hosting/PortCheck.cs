using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NoOrg.Configuration;

namespace NoOrg.Silo.Hosting;

/// <summary>
/// The ports the silo will listen on, tried before Orleans starts: a port in use (a second silo on the same machine)
/// is one line naming the setting to change, instead of a crash after the cluster has half started.
/// </summary>
internal static class PortCheck
{
    /// <summary>The first port in use, as "NOORG_KEY: port N is already in use ...", or null when all are free.</summary>
    public static string? FirstInUse(NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var ports = new List<(string Key, int Port)>
        {
            ("NOORG_CLUSTER_SILO_PORT", settings.Cluster.SiloPort),
            ("NOORG_CLUSTER_GATEWAY_PORT", settings.Cluster.GatewayPort),
        };
        foreach (var url in settings.Http.UrlList)
        {
            // Kestrel's wildcard hosts (*, +) are not URIs; the port is all that matters here.
            if (Uri.TryCreate(url.Replace("://*", "://any", StringComparison.Ordinal).Replace("://+", "://any", StringComparison.Ordinal), UriKind.Absolute, out var uri))
            {
                ports.Add(("NOORG_HTTP_URLS", uri.Port));
            }
        }

        foreach (var (key, port) in ports)
        {
            if (InUse(port))
            {
                return $"{key}: port {port.ToString(CultureInfo.InvariantCulture)} is already in use (another silo on this machine?); set {key} to a free port.";
            }
        }

        return null;
    }

    private static bool InUse(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(IPAddress.Any, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            return true;
        }
    }
}
