using NoOrg.Grains.Security;

namespace NoOrg.Tests.Security;

/// <summary>A grain that makes an admin-only call from inside the silo, where calls are not checked again.</summary>
[Alias("NoOrg.Tests.Security.IGrainCallProbeGrain")]
public interface IGrainCallProbeGrain : IGrainWithIntegerKey
{
    [Alias("count-keys"), Requires(AccessRole.Reader)]
    Task<int> CountKeysAsync();
}

public sealed class GrainCallProbeGrain : Grain, IGrainCallProbeGrain
{
    public async Task<int> CountKeysAsync() =>
        (await GrainFactory.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key).ListAsync()).Count;
}
