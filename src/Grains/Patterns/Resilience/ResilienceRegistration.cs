using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace NoOrg.Grains.Patterns.Resilience;

internal static class ResilienceRegistration
{
    /// <summary>The per-destination pipelines (<see cref="IOutboundResilience"/>) and what they need.</summary>
    public static IServiceCollection AddNoOrgResilience(this IServiceCollection services)
    {
        services.AddHttpClient(OutboundResilience.HttpClientName);
        services.AddMetrics();
        services.TryAddSingleton<IOutboundResilience, OutboundResilience>();
        return services;
    }
}
