using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

/// <summary>
/// Cluster timing. The defaults detect a killed silo in a few seconds so its grains come back elsewhere
/// well within ten seconds, instead of the Orleans defaults' fifteen or more.
/// </summary>
[SettingsArea("NOORG_TIMEOUTS", "Performance and timeouts")]
public sealed class TimeoutSettings
{
    [Setting("RESPONSE_SECONDS", "how long a grain call waits for its answer before failing with a timeout")]
    [Range(1, 3600)]
    public int ResponseSeconds { get; set; } = 10;

    [Setting("PROBE_SECONDS", "membership probe timeout between silos")]
    [Range(1, 60)]
    public int ProbeSeconds { get; set; } = 2;

    [Setting("MISSED_PROBES_LIMIT", "missed probes before a silo votes another dead")]
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 2;

    [Setting("SHUTDOWN_SECONDS", "how long a stopping silo may take to drain and hand over its grains")]
    [Range(1, 3600)]
    public int ShutdownSeconds { get; set; } = 30;

    [Setting("CLIENT_CONNECT_SECONDS", "how long a client keeps retrying to reach a gateway at start")]
    [Range(1, 3600)]
    public int ClientConnectSeconds { get; set; } = 30;

    [Setting("CLIENT_RETRY_ATTEMPTS", "retries of a client call that failed with a transient cluster error")]
    [Range(0, 20)]
    public int ClientRetryAttempts { get; set; } = 5;
}
