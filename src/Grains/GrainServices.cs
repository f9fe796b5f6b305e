using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains.Indexing;
using NoOrg.Grains.Sagas;
using NoOrg.Storage;

namespace NoOrg.Grains;

/// <summary>The silo-side services NoOrg's grains depend on.</summary>
public static class GrainServices
{
    public static IServiceCollection AddNoOrgGrainServices(this IServiceCollection services, StorageDialect dialect, string connectionString)
    {
        services.AddSingleton(new IndexDatabase(dialect, connectionString));
        services.AddSingleton<ITaskIndex, SqlTaskIndex>();
        services.AddSingleton<IAgentIndex, SqlAgentIndex>();
        services.AddSingleton<IIncomingGrainCallFilter, Errors.StorageErrorFilter>();
        services.AddSingleton<ISagaIndex, SqlSagaIndex>();
        services.AddSingleton<SagaRegistry>();
        return services;
    }
}
