using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using NoOrg.Client.Workers;
using NoOrg.Configuration;

namespace NoOrg.Client.Ai;

public static class AiWorkerServiceCollectionExtensions
{
    /// <summary>
    /// Runs this app as a NoOrg agent whose tasks a model does (<see cref="AiTaskHandler"/>): the model is the one
    /// NOORG_LLM_* chooses (the <see cref="NoOrgSettings"/> AddNoOrgClient registered; offline without them), or an
    /// <see cref="IChatClient"/> the app registered itself. Needs AddNoOrgClient (or an IClusterClient).
    /// </summary>
    public static IServiceCollection AddNoOrgAiWorker(this IServiceCollection services, Action<AgentWorkerOptions> worker, Action<AiWorkerOptions> ai)
    {
        ArgumentNullException.ThrowIfNull(ai);
        services.Configure(ai);
        services.AddNoOrgLlm();
        return services.AddNoOrgWorker<AiTaskHandler>(worker);
    }

    /// <summary>The <see cref="LlmConnection"/> of NOORG_LLM_* (budget and governance included), for apps that call the model themselves.</summary>
    public static IServiceCollection AddNoOrgLlm(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => LlmConnection.Create(
            sp.GetService<NoOrgSettings>() ?? NoOrgSettings.Load(new ConfigurationBuilder().Build()),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<IChatClient>()));
        return services;
    }
}
