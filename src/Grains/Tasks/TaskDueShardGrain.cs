using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Grains.Security;
using Orleans.Configuration;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// Silo-internal: what a due shard asks of a task whose time-out or deadline came (clients never call it).
/// </summary>
[Alias("noorg.tasks.due-target"), Requires(AccessRole.Admin)]
public interface ITaskDueGrain : IGrainWithStringKey
{
    /// <summary>Applies the time-out or deadline if it is due; otherwise waits for it (idempotent).</summary>
    [Alias("check-due")] Task CheckDueAsync();
}

/// <summary>Silo-internal: one of the fixed set of shards that fire task time-outs and deadlines.</summary>
[Alias("noorg.tasks.due-shard"), Requires(AccessRole.Admin)]
public interface ITaskDueShardGrain : IGrainWithIntegerKey
{
    /// <summary>How many shards there are (keys 0 to Count - 1), whatever the number of tasks: one reminder each.</summary>
    public const int Count = 4;

    /// <summary>Registers the shard's reminder and starts its sweep timer (idempotent).</summary>
    [Alias("ensure-running")] Task EnsureRunningAsync();

    /// <summary>One sweep now: how many due tasks were woken.</summary>
    [Alias("sweep")] Task<int> SweepNowAsync();
}

/// <summary>
/// Task time-outs and deadlines without a reminder per task. Every task write stores when the task is next due
/// (<see cref="TaskGrainState.DueAt"/>; the database keeps it in <c>noorg_task_due</c> in the same statement), and an
/// active task fires its own timer at that time. What an activation cannot do, because it went idle or its silo was
/// lost, these shards do: each owns a quarter of the slots (0 to 255, from the task's key), reads its due tasks every
/// <see cref="SweepPeriod"/> with one indexed query, and wakes them. A reminder keeps each shard alive across silo
/// losses, so the cluster holds <see cref="ITaskDueShardGrain.Count"/> reminders for any number of tasks.
/// </summary>
public sealed partial class TaskDueShardGrain(
    ITaskIndex index,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<TaskDueShardGrain> logger) : Grain, ITaskDueShardGrain, IRemindable
{
    /// <summary>
    /// How often a shard looks; a task whose activation was lost is failed or retried at most this late (plus
    /// <see cref="Grace"/>). Each look is one indexed read, so an idle cluster costs 4 reads every 5 s.
    /// </summary>
    internal static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);

    /// <summary>An active task fires its own timer: the shard leaves it this long to do so before waking it.</summary>
    internal static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private const int BatchSize = 500;
    private const int MaxBatchesPerSweep = 4;
    private const int Parallelism = 16;
    private const int Slots = 256;

    private int FromSlot => (int)(this.GetPrimaryKeyLong() * Slots / ITaskDueShardGrain.Count);

    private int ToSlot => (int)((this.GetPrimaryKeyLong() + 1) * Slots / ITaskDueShardGrain.Count);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var period = minimum > TimeSpan.FromMinutes(1) ? minimum : TimeSpan.FromMinutes(1);
        await this.RegisterOrUpdateReminder("due", period, period);
        this.RegisterGrainTimer(_ => SweepAsync(), new GrainTimerCreationOptions(SweepPeriod, SweepPeriod) { KeepAlive = true });
    }

    public Task EnsureRunningAsync() => Task.CompletedTask;

    public Task<int> SweepNowAsync() => SweepAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => SweepAsync();

    private async Task<int> SweepAsync()
    {
        var woken = 0;
        try
        {
            for (var batch = 0; batch < MaxBatchesPerSweep; batch++)
            {
                var due = await index.DueAsync(clock.GetUtcNow() - Grace, FromSlot, ToSlot, BatchSize);
                foreach (var chunk in due.Chunk(Parallelism))
                {
                    var results = await Task.WhenAll(chunk.Select(WakeAsync));
                    woken += results.Count(r => r);
                }

                if (due.Count < BatchSize)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSweepFailed(logger, e, this.GetPrimaryKeyLong());
        }

        return woken;
    }

    private async Task<bool> WakeAsync(string taskId)
    {
        try
        {
            await GrainFactory.GetGrain<ITaskDueGrain>(taskId).CheckDueAsync();
            return true;
        }
        catch (Exception e)
        {
            LogWakeFailed(logger, e, taskId); // still due: the next sweep tries again
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task due shard {Shard}: the sweep failed; the next one retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, long shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task due shard: task {TaskId} could not be woken for its time-out or deadline; the next sweep retries")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string taskId);
}
