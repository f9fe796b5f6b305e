using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NoOrg.Tests.Infrastructure;

public static class FreePorts
{
    private static readonly HashSet<int> Given = [];

    /// <summary>Orleans' TestingHost clusters take their ports below this (12,000-30,000).</summary>
    private const int Bottom = 30_000;

    /// <summary>
    /// A TCP port nothing listens on right now, between the TestingHost clusters' ports and the OS's ephemeral range: a
    /// port the OS picks from that range can be taken by any outgoing connection before a child process binds it (a
    /// silo failed to start so in CI). Never the same port twice in one test run.
    /// </summary>
    public static int Next()
    {
        var (low, _) = EphemeralRange();
        var top = Math.Min(low, 32_768);
        for (var attempt = 0; attempt < 200 && top > Bottom; attempt++)
        {
            var port = Random.Shared.Next(Bottom, top);
            lock (Given)
            {
                if (Given.Contains(port) || !IsFree(port))
                {
                    continue;
                }

                Given.Add(port);
                return port;
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32768, 60999); // Linux's default
        }
    }
}
