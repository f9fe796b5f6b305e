namespace NoOrg.Grains.Patterns.Throttling;

[GenerateSerializer, Alias("noorg.throttling.policy-state")]
public sealed class RateLimitPolicyState
{
    [Id(0)] public RateLimitPolicy? Policy { get; set; }
}

public sealed class RateLimitPolicyGrain(
    [PersistentState("noorg.throttling.policy", StorageNames.Default)] IPersistentState<RateLimitPolicyState> state,
    IGrainFactory grains) : Grain, IRateLimitPolicyGrain
{
    public async Task<RateLimitPolicy> SetAsync(RateLimitPolicy policy)
    {
        var valid = RateLimitPolicyRules.Validate(policy, this.GetPrimaryKeyString());
        if (state.State.Policy != valid)
        {
            state.State.Policy = valid;
            await state.WriteStateAsync();
        }

        // After the policy is durable; adding a name twice is harmless, so a retried Set repairs a failed listing.
        await grains.GetGrain<IRateLimitPolicyRegistryGrain>(0).AddAsync(valid.Name);
        return valid;
    }

    public async Task<bool> RemoveAsync()
    {
        var existed = state.State.Policy is not null;
        if (existed)
        {
            state.State.Policy = null;
            await state.ClearStateAsync();
        }

        await grains.GetGrain<IRateLimitPolicyRegistryGrain>(0).RemoveAsync(this.GetPrimaryKeyString());
        return existed;
    }

    public Task<RateLimitPolicy?> GetAsync() => Task.FromResult(state.State.Policy);
}
