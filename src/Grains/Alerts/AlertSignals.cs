using System.Globalization;
using Microsoft.Extensions.Options;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using Orleans.Configuration;

namespace NoOrg.Grains.Alerts;

/// <summary>
/// The figure each kind of rule watches, read set-based from the indexes and the outbox table: one query per
/// distinct signal and evaluation, never a call to a task, agent or saga grain.
/// </summary>
public sealed class AlertSignals(
    IndexDatabase database, ITaskIndex tasks, IHealthIndex health, IAgentIndex agents, SqlOutboxStore outbox, IOptions<ClusterOptions> cluster)
{
    /// <summary>What one evaluation reads: rules watching the same signal share its one query.</summary>
    public sealed class Reading(AlertSignals signals, DateTimeOffset now)
    {
        private readonly Dictionary<(AlertKind, string?, TimeSpan?), Task<double>> read = [];

        public DateTimeOffset Now => now;

        public Task<double> ValueAsync(AlertRuleSpec spec)
        {
            ArgumentNullException.ThrowIfNull(spec);
            var key = (spec.Kind, spec.Capability, spec.Window);
            if (!read.TryGetValue(key, out var value))
            {
                value = signals.ReadAsync(spec, now);
                read[key] = value;
            }

            return value;
        }
    }

    public Reading Begin(DateTimeOffset now) => new(this, now);

    public async Task<double> ReadAsync(AlertRuleSpec spec, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (spec.Kind)
        {
            case AlertKind.AgentUnhealthy:
                return (await health.CountAsync(cancellationToken)).GetValueOrDefault(HealthStatus.Unhealthy);
            case AlertKind.PendingTasks:
                return spec.Capability is { } capability
                    ? await PendingWithCapabilityAsync(capability, cancellationToken)
                    : (await tasks.CountByStateAsync(cancellationToken)).GetValueOrDefault(TaskState.Pending);
            case AlertKind.DeadLetters:
                return (await outbox.SummaryAsync(cluster.Value.ServiceId)).Sum(s => (long)s.DeadLetters);
            case AlertKind.SagaFailureRate:
                return await SagaFailureRateAsync(now - (spec.Window ?? TimeSpan.FromHours(1)), cancellationToken);
            case AlertKind.NoHealthyAgent:
                return (await agents.CapabilityCoverageAsync([spec.Capability!], cancellationToken)).Accepting;
            default:
                throw new InvalidOperationException($"unknown alert kind {spec.Kind}");
        }
    }

    private async Task<double> PendingWithCapabilityAsync(string capability, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, database.Dialect == StorageDialect.Postgres
            ? "SELECT COUNT(*) FROM noorg_tasks WHERE state = 'pending' AND jsonb_exists(required_capabilities::jsonb, @capability)"
            : "SELECT COUNT(*) FROM noorg_tasks WHERE state = 'pending' AND EXISTS (SELECT 1 FROM json_each(required_capabilities) WHERE value = @capability)");
        command.AddParameter("capability", capability);
        return Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Compensated or compensation-failed sagas over all sagas finished since <paramref name="since"/>; 0 when none finished.</summary>
    private async Task<double> SagaFailureRateAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null,
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN (@compensated, @failed) THEN 1 ELSE 0 END), 0) FROM noorg_sagas WHERE finished_at >= @since");
        command.AddParameter("compensated", SqlSagaIndex.StatusName(SagaStatus.Compensated));
        command.AddParameter("failed", SqlSagaIndex.StatusName(SagaStatus.CompensationFailed));
        command.AddParameter("since", since.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var finished = Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture);
        var failed = Convert.ToDouble(reader.GetValue(1), CultureInfo.InvariantCulture);
        return finished == 0 ? 0 : failed / finished;
    }
}
