using NoOrg.Grains;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Client.Watching;

namespace NoOrg.Client.Tasks;

/// <summary>Tasks from an app: create, read, change and follow them by id. Every error is a <see cref="NoOrgException"/> with a code.</summary>
public sealed class TaskClient
{
    private readonly IClusterClient client;
    private readonly string actor;

    internal TaskClient(IClusterClient client, string actor)
    {
        this.client = client;
        this.actor = actor;
    }

    /// <summary>How often <see cref="WaitAsync"/> reads the task when no change arrives (changes wake it at once).</summary>
    public static TimeSpan WaitPollInterval { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Creates a task. With an idempotency key, the same key and content return the existing task.</summary>
    public Task<TaskSnapshot> CreateAsync(TaskSpec spec, string? actor = null) => client.CreateTaskAsync(spec, actor ?? this.actor);

    /// <summary>The task; <see cref="NotFoundException"/> when there is none with this id.</summary>
    public async Task<TaskSnapshot> GetAsync(string taskId) =>
        await TryGetAsync(taskId) ?? throw Missing(taskId);

    /// <summary>The task, or null when there is none with this id.</summary>
    public Task<TaskSnapshot?> TryGetAsync(string taskId) => Task(taskId).GetAsync();

    public Task<Page<TaskSummary>> ListAsync(TaskQuery query) => Queries.ListAsync(query ?? new TaskQuery());

    public Task<Page<TaskEvent>> HistoryAsync(string taskId, int skip = 0, int take = 100) => Task(taskId).GetHistoryAsync(skip, take);

    public Task<TaskSnapshot> UpdateAsync(string taskId, TaskUpdate update, string? actor = null) => Task(taskId).UpdateAsync(update, actor ?? this.actor);

    public Task<TaskSnapshot> CancelAsync(string taskId, string reason, string? actor = null) => Task(taskId).CancelAsync(reason, actor ?? this.actor);

    public Task<TaskSnapshot> AssignAsync(string taskId, string agentId, string? actor = null) => Task(taskId).AssignAsync(agentId, actor ?? this.actor);

    public Task<TaskSnapshot> UnassignAsync(string taskId, string reason, string? actor = null) => Task(taskId).UnassignAsync(reason, actor ?? this.actor);

    public Task<TaskSnapshot> ReassignAsync(string taskId, string agentId, string reason, string? actor = null) =>
        Task(taskId).ReassignAsync(agentId, reason, actor ?? this.actor);

    /// <summary>What a worker reports; an app that runs tasks without the worker SDK calls these itself.</summary>
    public Task<TaskSnapshot> StartAsync(string taskId, string agentId) => Task(taskId).StartAsync(agentId);

    public Task<TaskSnapshot> CompleteAsync(string taskId, string agentId, string resultJson, TimeSpan? processingTime = null) =>
        Task(taskId).CompleteAsync(agentId, resultJson, processingTime);

    public Task<TaskSnapshot> FailAsync(string taskId, string agentId, string error) => Task(taskId).FailAsync(agentId, error);

    public Task<TaskStatistics> StatisticsAsync() => Queries.StatisticsAsync();

    /// <summary>How long a task of <paramref name="type"/> takes, from finished tasks (of <paramref name="agentId"/> when given).</summary>
    public Task<DurationEstimate> EstimateAsync(string type, string? agentId = null, TaskPriority priority = TaskPriority.Medium) =>
        Queries.EstimateAsync(type, agentId, priority);

    /// <summary>Removes finished tasks older than <paramref name="olderThan"/> (null: the retention setting); returns how many.</summary>
    public Task<int> CleanupAsync(TimeSpan? olderThan = null) => Queries.CleanupAsync(olderThan);

    /// <summary>
    /// Waits until the task is completed, failed or cancelled and returns it; <see cref="TimeoutException"/> (naming
    /// the task's state and why it is not assigned) when that takes longer than <paramref name="timeout"/>.
    /// <paramref name="progress"/> hears the task each time it changes, and at least every poll interval.
    /// </summary>
    public async Task<TaskSnapshot> WaitAsync(string taskId, TimeSpan timeout, IProgress<TaskSnapshot>? progress = null, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await using var changed = await Watches.TaskAsync(client, InputText.RequireId("taskId", taskId));
        TaskSnapshot? task = null;
        try
        {
            while (true)
            {
                task = await GetAsync(taskId).WaitAsync(deadline.Token);
                progress?.Report(task);
                if (task.IsTerminal)
                {
                    return task;
                }

                await changed.WaitAsync(WaitPollInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"task '{taskId}' did not finish within {timeout}: it is {Describe(task)}");
        }
    }

    /// <summary>
    /// Every change of one task (or, with no id, of every task) from now on, pushed by the cluster, until the loop
    /// stops or the token is cancelled. One task's watch misses nothing (a change that did not arrive is read from
    /// its history). A watch of all tasks ends with <see cref="WatchGapException"/> when changes may have been
    /// missed (a silo stopped, or the loop fell more than 10,000 changes behind): watch again, and list for the state.
    /// </summary>
    public IAsyncEnumerable<TaskEvent> WatchAsync(string? taskId = null, CancellationToken cancellationToken = default) =>
        Watches.Tasks(client, taskId is null ? null : InputText.RequireId("taskId", taskId), cancellationToken);

    /// <summary>"pending (no registered agent has capabilities [x])": the state and why it waits, for messages.</summary>
    public static string Describe(TaskSnapshot? task) =>
        task is null ? "not read yet"
        : task.State == TaskState.Pending && task.UnassignableReason is { } why ? $"pending ({why})"
        : task.State.ToString().ToLowerInvariant();

    internal static NotFoundException Missing(string taskId) => NotFoundException.ForTask(taskId);

    private ITaskGrain Task(string taskId) => client.GetGrain<ITaskGrain>(InputText.RequireId("taskId", taskId));

    private ITaskQueryGrain Queries => client.GetGrain<ITaskQueryGrain>(0);
}
