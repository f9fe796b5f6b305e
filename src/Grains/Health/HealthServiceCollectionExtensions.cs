using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace NoOrg.Grains.Health;

public static class HealthServiceCollectionExtensions
{
    /// <summary>Adds a health check every agent monitor of this silo runs (register it on every silo).</summary>
    public static IServiceCollection AddNoOrgHealthCheck<T>(this IServiceCollection services)
        where T : class, IAgentHealthCheck
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAgentHealthCheck, T>());
        return services;
    }

    internal static IServiceCollection AddNoOrgHealthMonitoring(this IServiceCollection services) => services
        .AddNoOrgHealthCheck<HeartbeatCheck>()
        .AddNoOrgHealthCheck<ReachabilityCheck>()
        .AddNoOrgHealthCheck<ErrorRateCheck>()
        .AddNoOrgHealthCheck<SuccessRateCheck>()
        .AddNoOrgHealthCheck<ResponseTimeCheck>()
        .AddNoOrgHealthCheck<UptimeCheck>()
        .AddSingleton<IHealthIndex, SqlHealthIndex>();
}
