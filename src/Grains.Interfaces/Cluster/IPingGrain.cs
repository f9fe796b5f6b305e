using NoOrg.Grains.Security;
namespace NoOrg.Grains.Cluster;

/// <summary>
/// A grain that does nothing: the cost of one call through the cluster, with no state and no storage (the messaging
/// floor of <c>noorg bench</c>), and the memory of the silo that answers.
/// </summary>
[Alias("noorg.cluster.ping")]
public interface IPingGrain : IGrainWithIntegerKey
{
    [Alias("ping"), Requires(AccessRole.Reader)] Task PingAsync();

    /// <summary>Memory of the silo this call reached (a stateless worker answers on the silo of its gateway).</summary>
    [Alias("memory"), Requires(AccessRole.Reader)] Task<SiloMemory> MemoryAsync(bool collectFirst);
}

/// <summary>A silo process's memory: resident set and the managed heap after (optionally) a full collection.</summary>
[GenerateSerializer, Immutable, Alias("noorg.cluster.silo-memory")]
public sealed record SiloMemory(string Silo, long ResidentBytes, long ManagedHeapBytes, long GcCommittedBytes, int ProcessorCount);
