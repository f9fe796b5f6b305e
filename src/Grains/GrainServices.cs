using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Patterns.Resilience;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;

namespace NoOrg.Grains;

/// <summary>The silo-side services NoOrg's grains depend on.</summary>
public static class GrainServices
{
    public static IServiceCollection AddNoOrgGrainServices(this IServiceCollection services, StorageDialect dialect, string connectionString)
    {
        services.AddSingleton(_ => new IndexDatabase(dialect, connectionString));
        services.AddSingleton<ITaskIndex, SqlTaskIndex>();
        services.AddSingleton<IAgentIndex, SqlAgentIndex>();
        services.AddSingleton<IIncomingGrainCallFilter, Errors.WireErrorFilter>();
        services.AddSingleton<IOutgoingGrainCallFilter, Errors.WrappedErrorFilter>();
        services.AddNoOrgHealthMonitoring();
        services.AddSingleton<IIncomingGrainCallFilter, Patterns.Throttling.RateLimitFilter>();
        services.TryAddSingleton<Patterns.Caching.CacheCatalog>();
        services.AddNoOrgResilience();
        services.AddPlacementDirector<Patterns.Resilience.SiloBoundPlacement, Patterns.Resilience.SiloBoundPlacementDirector>();
        services.AddNoOrgOutbox()
            .AddOutboxHost<ITaskGrain>(TaskGrain.StateName)
            .AddOutboxPayload<TaskEvent>(TaskGrain.EventPayload)
            .AddOutboxHost<ISagaGrain>(SagaGrain.StateName)
            .AddOutboxPayload<SagaLogEntry>(SagaGrain.EventPayload)
            .AddOutboxHost<Alerts.IAlertRuleGrain>(Alerts.AlertRuleGrain.StateName)
            .AddOutboxPayload<Alerts.AlertEvent>(Alerts.AlertRuleGrain.EventPayload);
        services.AddSingleton<Alerts.AlertSignals>();
        services.AddSingleton<ISagaIndex, SqlSagaIndex>();
        services.AddSingleton<Retention.SqlRetentionStore>();
        services.AddSingleton<SagaRegistry>();
        return services;
    }

    /// <summary>The cluster-wide gauges (<see cref="Observability.ClusterGauges"/>): reported by one silo, from the database.</summary>
    public static IServiceCollection AddNoOrgClusterGauges(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<Observability.ClusterGauges>();
        services.AddHostedService(sp => sp.GetRequiredService<Observability.ClusterGauges>());
        return services;
    }
}
