namespace NoOrg.Silo.Workers;

internal static class HttpWorkerServiceCollectionExtensions
{
    /// <summary>The sessions of HTTP workers and the loop that keeps them connected to their agent grains.</summary>
    public static IServiceCollection AddNoOrgHttpWorkers(this IServiceCollection services)
    {
        services.AddSingleton<HttpWorkerSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<HttpWorkerSessions>());
        return services;
    }
}
