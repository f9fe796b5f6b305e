using Microsoft.Extensions.Diagnostics.HealthChecks;
using NoOrg.Configuration;
using NoOrg.Silo.Hosting;
using NoOrg.Storage;

namespace NoOrg.Silo.Health;

/// <summary>Ready only while the database answers a trivial query within the configured time.</summary>
internal sealed class StorageCheck(NoOrgSettings settings) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.Health.ReadyStorageTimeoutSeconds));
        try
        {
            await using var connection = await StorageConnections.OpenAsync(
                settings.Storage.Provider.ToDialect(), settings.Storage.EffectiveConnectionString, timeout.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy($"{settings.Storage.Provider} answers");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{settings.Storage.Provider} did not answer within {settings.Health.ReadyStorageTimeoutSeconds}s");
        }
        catch (System.Data.Common.DbException e)
        {
            return HealthCheckResult.Unhealthy($"{settings.Storage.Provider} failed: {e.Message}");
        }
    }
}
