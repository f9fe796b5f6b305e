using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Sagas;

/// <summary>Answers questions about many sagas from the saga index; stateless, so each silo answers its own callers.</summary>
[StatelessWorker]
public sealed class SagaQueryGrain(ISagaIndex index, SagaRegistry registry, TimeProvider clock) : Grain, ISagaQueryGrain
{
    public Task<Page<SagaSummary>> ListAsync(SagaQuery query)
    {
        if (query is null || query.Skip < 0 || query.Take < 1)
        {
            throw new ValidationException(
                $"query: skip must be 0 or more and take 1 or more (at most {SqlSagaIndex.MaxPageSize} are returned); got skip {query?.Skip}, take {query?.Take}.");
        }

        return index.QueryAsync(query);
    }

    public Task<SagaStatistics> StatisticsAsync() => index.StatisticsAsync(clock.GetUtcNow());

    public Task<IReadOnlyList<SagaDefinitionInfo>> DefinitionsAsync() =>
        Task.FromResult<IReadOnlyList<SagaDefinitionInfo>>([.. registry.Definitions.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => d.Describe())]);
}
