using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG_CLUSTER", "Cluster")]
public sealed class ClusterSettings
{
    [Setting("ID", "Orleans cluster id; silos and clients with the same id form one cluster")]
    public string ClusterId { get; set; } = "noorg";

    [Setting("SERVICE_ID", "Orleans service id; keys stored state and reminders, keep it stable across deployments")]
    public string ServiceId { get; set; } = "noorg";

    [Setting("SILO_PORT", "TCP port for silo-to-silo traffic")]
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Setting("GATEWAY_PORT", "TCP port clients connect to")]
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    [Setting("ADVERTISED_ADDRESS", "IP address other silos and clients use to reach this silo; empty picks one (loopback for the embedded default)")]
    public string AdvertisedAddress { get; set; } = "";

    [Setting("GATEWAYS", "clients only: comma-separated host:port gateways; empty finds them through the database (postgres) or uses localhost (sqlite)")]
    public string Gateways { get; set; } = "";

    internal IEnumerable<SettingError> Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            yield return new SettingError("NOORG_CLUSTER_ID", ClusterId, "must not be empty");
        }

        if (!string.IsNullOrEmpty(AdvertisedAddress) && !System.Net.IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return new SettingError("NOORG_CLUSTER_ADVERTISED_ADDRESS", AdvertisedAddress, "expected an IPv4 or IPv6 address");
        }

        if (SiloPort == GatewayPort)
        {
            yield return new SettingError("NOORG_CLUSTER_GATEWAY_PORT", GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "must differ from NOORG_CLUSTER_SILO_PORT");
        }

        foreach (var gateway in GatewayEndpoints())
        {
            if (!TryParseEndpoint(gateway, out _, out _))
            {
                yield return new SettingError("NOORG_CLUSTER_GATEWAYS", Gateways, $"'{gateway}' is not host:port with a port between 1 and 65535");
            }
        }
    }

    public IEnumerable<string> GatewayEndpoints() =>
        Gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool TryParseEndpoint(string endpoint, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = endpoint[..colon].Trim('[', ']');
        return host.Length > 0;
    }
}
