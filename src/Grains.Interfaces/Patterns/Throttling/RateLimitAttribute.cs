namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>
/// Limits calls to a grain interface method by a policy. The key is the argument named <see cref="KeyFrom"/>
/// (its string form), or the target grain's key when unset. A refused call throws
/// <see cref="RateLimitExceededException"/> to the caller without running the method.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class RateLimitAttribute(string policy) : Attribute
{
    public string Policy { get; } = policy;

    /// <summary>Name of the method parameter whose value is the limit key; null means the grain's key.</summary>
    public string? KeyFrom { get; init; }

    public int Permits { get; init; } = 1;
}
