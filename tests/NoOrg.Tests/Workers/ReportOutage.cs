using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Workers;

/// <summary>
/// A grain call filter in every test silo that refuses the completion and failure reports of the agents a test names,
/// with <see cref="UnavailableException"/>, as the silos do while the database is down. Other agents are not touched,
/// so clusters and tests running side by side are not disturbed.
/// </summary>
public sealed class ReportOutage : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, bool> Refused = new(StringComparer.Ordinal);

    public static void Begin(string agentId) => Refused[agentId] = true;

    public static void End(string agentId) => Refused.TryRemove(agentId, out _);

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(ITaskGrain)
            && context.InterfaceMethod.Name is nameof(ITaskGrain.CompleteAsync) or nameof(ITaskGrain.FailAsync)
            && context.Request.GetArgument(0) is string agentId
            && Refused.ContainsKey(agentId))
        {
            throw new UnavailableException($"test outage: reports of agent {agentId} are refused");
        }

        return context.Invoke();
    }
}

[TestSiloExtension]
public sealed class ReportOutageConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddSingleton<IIncomingGrainCallFilter, ReportOutage>();
}
