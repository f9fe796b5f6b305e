namespace NoOrg.Grains.Patterns.Resilience;

/// <summary>Answers for the silo it runs on, which its placement makes the silo named by its key.</summary>
[SiloBoundPlacement]
public sealed class ResilienceReportGrain(IOutboundResilience resilience) : Grain, IResilienceReportGrain
{
    public Task<SiloBreakers> GetAsync() => Task.FromResult(new SiloBreakers(RuntimeIdentity, resilience.Breakers()));
}
