using NoOrg.Grains.Errors;
using Orleans.Concurrency;

namespace NoOrg.Grains.Tasks;

/// <summary>Answers questions about many tasks from the task index; stateless, so each silo answers its own callers.</summary>
[StatelessWorker]
public sealed class TaskQueryGrain(ITaskIndex index, TimeProvider clock) : Grain, ITaskQueryGrain
{
    public Task<Page<TaskSummary>> ListAsync(TaskQuery query)
    {
        if (query is null || query.Skip < 0 || query.Take < 1)
        {
            throw new ValidationException(
                $"query: skip must be 0 or more and take 1 or more (at most {SqlTaskIndex.MaxPageSize} are returned); got skip {query?.Skip}, take {query?.Take}.");
        }

        return index.QueryAsync(query);
    }

    public Task<TaskStatistics> StatisticsAsync() => index.StatisticsAsync(clock.GetUtcNow());

    /// <summary>The agent's own history first, then the type's, then the prior for the priority.</summary>
    public async Task<DurationEstimate> EstimateAsync(string type, string? agentId, TaskPriority priority)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            throw new ValidationException("type: required (the task type to estimate).");
        }

        if (agentId is not null && await index.EstimateAsync(type, agentId) is { } own)
        {
            return own;
        }

        return await index.EstimateAsync(type, null) ?? DurationPriors.Estimate(type, agentId, priority);
    }

    public Task<int> CleanupAsync(TimeSpan? olderThan) =>
        GrainFactory.GetGrain<ITaskRetentionGrain>(ITaskRetentionGrain.Key).CleanupAsync(olderThan);
}
