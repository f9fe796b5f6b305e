using NoOrg.Grains.Agents;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Grains.Watching;

namespace NoOrg.Client.Watching;

/// <summary>The observer objects the grains push to; each hands its pushes to one watch.</summary>
internal sealed class TaskWatcher(ChangeWatch<TaskEvent> watch) : ITaskWatcher
{
    public Task ChangedAsync(TaskEvent change, WatchPoint point)
    {
        watch.Receive(change, point);
        return Task.CompletedTask;
    }
}

internal sealed class AgentWatcher(ChangeWatch<AgentEvent> watch) : IAgentWatcher
{
    public Task ChangedAsync(AgentEvent change, WatchPoint point)
    {
        watch.Receive(change, point);
        return Task.CompletedTask;
    }
}

internal sealed class SagaWatcher(ChangeWatch<SagaLogEntry> watch) : ISagaWatcher
{
    public Task ChangedAsync(SagaLogEntry change, WatchPoint point)
    {
        watch.Receive(change, point);
        return Task.CompletedTask;
    }
}
