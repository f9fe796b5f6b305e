using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace NoOrg.Silo.Health;

/// <summary>Ready only while this silo is an active member of the cluster.</summary>
internal sealed class SiloActiveCheck(ISiloStatusOracle oracle) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(oracle.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy("silo is active")
            : HealthCheckResult.Unhealthy($"silo is {oracle.CurrentStatus}"));
}
