namespace NoOrg.Client.Workers;

/// <summary>
/// Tells the workers of this process when the client lost a gateway: a silo went away, and with it the activations
/// it hosted, agent grains included. A reactivated agent grain does not know this process's observer until the worker
/// connects again, so the worker reconnects at once and then every second for a while
/// (<see cref="AgentWorkerOptions.ReconnectBurst"/>), instead of waiting out its heartbeat interval with nobody to push
/// it tasks.
/// </summary>
public sealed class ClusterChangeSignal : IClusterConnectionStatusObserver
{
    /// <summary>Raised when the client is connected to fewer gateways than before, or to none.</summary>
    public event Action? GatewayLost;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways)
        {
            GatewayLost?.Invoke();
        }
    }

    public void NotifyClusterConnectionLost() => GatewayLost?.Invoke();
}
