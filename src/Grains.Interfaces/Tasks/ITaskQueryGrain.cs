using NoOrg.Grains.Security;
namespace NoOrg.Grains.Tasks;

/// <summary>Questions about many tasks at once, answered from the task index (a stateless worker: no single bottleneck).</summary>
[Alias("noorg.tasks.queries")]
public interface ITaskQueryGrain : IGrainWithIntegerKey
{
    [Alias("list")] Task<Page<TaskSummary>> ListAsync(TaskQuery query);

    [Alias("statistics"), Requires(AccessRole.Reader)] Task<TaskStatistics> StatisticsAsync();

    /// <summary>From completed history of the type (and agent); without any, the documented prior for the priority.</summary>
    [Alias("estimate"), Requires(AccessRole.Reader)] Task<DurationEstimate> EstimateAsync(string type, string? agentId, TaskPriority priority);

    /// <summary>Removes finished tasks older than <paramref name="olderThan"/> (default: the retention setting); returns how many.</summary>
    [Alias("cleanup"), Requires(AccessRole.Admin)] Task<int> CleanupAsync(TimeSpan? olderThan);
}
