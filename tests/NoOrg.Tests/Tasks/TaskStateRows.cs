using NoOrg.Grains.Tasks;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Tasks;

/// <summary>Task grain states written as the grain storage writes them, so tests see the database's projection.</summary>
internal sealed class TaskStateRows(StorageDialect dialect, string connectionString)
{
    private readonly GrainStateRows rows = new(dialect, connectionString, TaskGrain.StateName);

    public Task<int?> WriteAsync(TaskSnapshot task, int? expectedVersion = null) =>
        rows.WriteAsync(task.Id, new TaskGrainState { Task = task }, expectedVersion);

    public Task<int?> ClearAsync(string taskId) => rows.ClearAsync(taskId);

    public Task<int?> StoredVersionAsync(string taskId) => rows.StoredVersionAsync(taskId);
}
