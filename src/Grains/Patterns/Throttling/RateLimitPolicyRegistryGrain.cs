namespace NoOrg.Grains.Patterns.Throttling;

[GenerateSerializer, Alias("noorg.throttling.policy-registry-state")]
public sealed class RateLimitPolicyRegistryState
{
    [Id(0)] public SortedSet<string> Names { get; set; } = new(StringComparer.Ordinal);
}

public sealed class RateLimitPolicyRegistryGrain(
    [PersistentState("noorg.throttling.policy-registry", StorageNames.Default)] IPersistentState<RateLimitPolicyRegistryState> state,
    IGrainFactory grains) : Grain, IRateLimitPolicyRegistryGrain
{
    public async Task AddAsync(string name)
    {
        if (state.State.Names.Add(name))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task RemoveAsync(string name)
    {
        if (state.State.Names.Remove(name))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task<IReadOnlyList<RateLimitPolicy>> ListAsync()
    {
        var policies = await Task.WhenAll(state.State.Names.Select(n => grains.GetGrain<IRateLimitPolicyGrain>(n).GetAsync()));
        return policies.OfType<RateLimitPolicy>().ToArray();
    }
}
