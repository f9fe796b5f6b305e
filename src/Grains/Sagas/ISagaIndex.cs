using NoOrg.Grains.Sagas;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// The saga read model: one row per saga in the cluster's database, projected by the coordinators after every
/// change, so listing and statistics never call saga grains.
/// </summary>
public interface ISagaIndex
{
    /// <summary>Upserts the saga's row; ignores a version not newer than the stored one.</summary>
    Task ProjectAsync(SagaSummary saga, long version, CancellationToken cancellationToken = default);

    /// <summary>Newest first.</summary>
    Task<Page<SagaSummary>> QueryAsync(SagaQuery query, CancellationToken cancellationToken = default);

    Task<SagaStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
