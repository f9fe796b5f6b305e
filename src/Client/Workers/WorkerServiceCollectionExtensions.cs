using Microsoft.Extensions.DependencyInjection;

namespace NoOrg.Client.Workers;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>Health check name of the worker (see <see cref="AgentWorkerHealthCheck"/>).</summary>
    public const string HealthCheckName = "noorg-worker";

    /// <summary>
    /// Runs this app as a NoOrg agent with <typeparamref name="THandler"/> doing the work, and adds the health check
    /// <see cref="HealthCheckName"/> that says whether it can. Needs AddNoOrgClient.
    /// </summary>
    public static IServiceCollection AddNoOrgWorker<THandler>(this IServiceCollection services, Action<AgentWorkerOptions> configure)
        where THandler : class, IAgentTaskHandler
    {
        services.Configure(configure);
        services.AddSingleton<IAgentTaskHandler, THandler>();
        services.AddSingleton<ClusterChangeSignal>();
        services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<ClusterChangeSignal>());
        services.AddSingleton<AgentWorkerService>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentWorkerService>());
        services.AddHealthChecks().AddCheck<AgentWorkerHealthCheck>(HealthCheckName);
        services.AddNoOrgLogTraceIds(); // a handler's log lines carry the trace of the task it runs
        return services;
    }
}
