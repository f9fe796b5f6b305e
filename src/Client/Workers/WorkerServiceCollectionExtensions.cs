using Microsoft.Extensions.DependencyInjection;

namespace NoOrg.Client.Workers;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>Runs this app as a NoOrg agent with <typeparamref name="THandler"/> doing the work. Needs AddNoOrgClient.</summary>
    public static IServiceCollection AddNoOrgWorker<THandler>(this IServiceCollection services, Action<AgentWorkerOptions> configure)
        where THandler : class, IAgentTaskHandler
    {
        services.Configure(configure);
        services.AddSingleton<IAgentTaskHandler, THandler>();
        services.AddSingleton<AgentWorkerService>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentWorkerService>());
        return services;
    }
}
