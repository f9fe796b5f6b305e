
namespace NoOrg.Grains.Sagas;

/// <summary>
/// The saga read model: one row per saga in the cluster's database, projected by the database inside every saga
/// state write (migration 0012), so listing and statistics never call saga grains.
/// </summary>
public interface ISagaIndex
{
    /// <summary>Newest first.</summary>
    Task<Page<SagaSummary>> QueryAsync(SagaQuery query, CancellationToken cancellationToken = default);

    Task<SagaStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
