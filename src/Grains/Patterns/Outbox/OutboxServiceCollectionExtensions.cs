using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using Orleans.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>Silo registration of the outbox, the inbox and webhooks, and of the grains and payload types that use them.</summary>
public static class OutboxServiceCollectionExtensions
{
    public static IServiceCollection AddNoOrgOutbox(this IServiceCollection services)
    {
        Registry(services);
        services.AddSingleton<WebhookDirectory>();
        services.AddSingleton<IInbox, SqlInbox>();
        services.AddSingleton<SqlOutboxStore>();
        services.AddSingleton<IWebhookSender, HttpWebhookSender>();
        services.AddSingleton(provider => new OutboxTargets(
            provider.GetRequiredService<IGrainFactory>(), provider.GetRequiredService<OutboxRegistry>(), provider.GetRequiredService<WebhookDirectory>(),
            provider.GetRequiredService<IWebhookSender>(), provider.GetRequiredService<NoOrgSettings>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new OutboxAcknowledgements(
            provider.GetRequiredService<SqlOutboxStore>(), provider.GetRequiredService<ILogger<OutboxAcknowledgements>>()));
        services.AddSingleton(provider => new OutboxRelayFactory(
            provider.GetRequiredService<OutboxRegistry>(), provider.GetRequiredService<SqlOutboxStore>(), provider.GetRequiredService<OutboxAcknowledgements>(),
            provider.GetRequiredService<OutboxTargets>(), provider.GetRequiredService<NoOrgSettings>(), provider.GetRequiredService<IOptions<ClusterOptions>>(),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    /// <summary>Grains of <typeparamref name="TGrain"/> embed an outbox in the state named <paramref name="stateName"/>: the sweeper may wake them.</summary>
    public static IServiceCollection AddOutboxHost<TGrain>(this IServiceCollection services, string stateName)
        where TGrain : IOutboxGrain, IGrainWithStringKey
    {
        Registry(services).AddHost<TGrain>(stateName);
        return services;
    }

    /// <summary>Outbox payloads named <paramref name="name"/> are published to streams as <typeparamref name="T"/>.</summary>
    public static IServiceCollection AddOutboxPayload<T>(this IServiceCollection services, string name)
    {
        Registry(services).AddPayload<T>(name);
        return services;
    }

    private static OutboxRegistry Registry(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(OutboxRegistry))?.ImplementationInstance is OutboxRegistry registry)
        {
            return registry;
        }

        registry = new OutboxRegistry();
        services.AddSingleton(registry);
        return registry;
    }
}
