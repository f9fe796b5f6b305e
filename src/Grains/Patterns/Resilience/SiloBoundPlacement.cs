using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace NoOrg.Grains.Patterns.Resilience;

/// <summary>
/// Places a grain on the silo its key names (<c>SiloAddress.ToParsableString()</c>), so one grain per silo can
/// report what only that silo knows. A key naming a silo that is not alive fails the call instead of moving.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("noorg.placement.silo-bound")]
public sealed class SiloBoundPlacement : PlacementStrategy
{
    public static readonly SiloBoundPlacement Instance = new();

    public override bool IsUsingGrainDirectory => true;
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloBoundPlacementAttribute() : PlacementAttribute(SiloBoundPlacement.Instance);

internal sealed class SiloBoundPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = target.GrainIdentity.Key.ToString();
        var silos = context.GetCompatibleSilos(target);
        return silos.FirstOrDefault(s => s.ToParsableString() == key) is { } silo
            ? Task.FromResult(silo)
            : throw new OrleansException($"Silo {key} is not an active member of the cluster; it cannot host {target.GrainIdentity}.");
    }
}
