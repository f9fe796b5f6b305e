using NoOrg.Grains.Security;
namespace NoOrg.Grains.Cluster;

/// <summary>
/// The cluster's own durable record of silo starts: when the cluster first came up and how often silos
/// (re)started since. Operators read it through <c>noorg status</c>.
/// </summary>
[Alias("noorg.cluster.history")]
public interface IClusterHistoryGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    [Alias("record-silo-start"), Requires(AccessRole.Admin)]
    Task RecordSiloStartAsync(SiloStart start);

    [Alias("get")]
    Task<ClusterHistory> GetAsync();
}

[GenerateSerializer, Immutable, Alias("noorg.cluster.silo-start")]
public sealed record SiloStart(string SiloName, string Address, DateTimeOffset StartedAt);

[GenerateSerializer, Immutable, Alias("noorg.cluster.history-view")]
public sealed record ClusterHistory(DateTimeOffset? FirstStartedAt, long SiloStarts, IReadOnlyList<SiloStart> RecentStarts);
