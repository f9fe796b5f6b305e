using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains.Health;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Health;

/// <summary>
/// A custom check, registered the way an application registers its own: it reads the agent's metadata key
/// <c>health-test</c> and fails ("fail"), throws ("throw") or overruns its timeout ("hang"). Every other agent passes.
/// </summary>
public sealed class FlagHealthCheck : IAgentHealthCheck
{
    public const string CheckName = "test-flag";
    public const string MetadataKey = "health-test";

    public string Name => CheckName;

    public TimeSpan Interval => TimeSpan.Zero;

    public TimeSpan Timeout => TimeSpan.FromMilliseconds(300);

    public async Task<HealthCheckOutcome> CheckAsync(AgentHealthFacts facts, CancellationToken cancellationToken)
    {
        switch (facts.Agent.Registration.Metadata.GetValueOrDefault(MetadataKey))
        {
            case "fail":
                return HealthCheckOutcome.Unhealthy("the test flag says this agent is broken");
            case "degrade":
                return HealthCheckOutcome.Degraded("the test flag says this agent is slow");
            case "throw":
                throw new InvalidOperationException("the test check blew up");
            case "hang":
                await Task.Delay(TimeSpan.FromSeconds(30), CancellationToken.None);
                return HealthCheckOutcome.Pass("too late");
            default:
                return HealthCheckOutcome.Pass("no test flag");
        }
    }
}

[TestSiloExtension]
public sealed class FlagHealthCheckConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddNoOrgHealthCheck<FlagHealthCheck>();
}
