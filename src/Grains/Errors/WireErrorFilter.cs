using Orleans.Serialization;

namespace NoOrg.Grains.Errors;

/// <summary>
/// Every grain call answers with an error its caller can read: a driver exception has no Orleans codec, so without
/// this a caller would see a serialization failure instead of the cause (see <see cref="WireErrors"/>). Failures while
/// a grain activates never reach call filters; <see cref="TypedGrainStorage"/> covers the state load there.
/// </summary>
internal sealed class WireErrorFilter(Serializer serializer) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (WireErrors.Replacement($"{context.InterfaceName}.{context.MethodName}", e, serializer.CanSerialize) is { } replacement)
        {
            throw replacement;
        }
    }
}
