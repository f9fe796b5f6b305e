using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using Orleans.Configuration;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// Retention: on a reminder every <c>NOORG_TASKS_CLEANUP_INTERVAL_MINUTES</c>, purges tasks that finished more than
/// <c>NOORG_TASKS_RETENTION_DAYS</c> ago. Purging goes through each task grain, which clears its state and takes
/// its row out of the index and the counters in one step.
/// </summary>
public sealed partial class TaskRetentionGrain(
    [PersistentState("task-retention", StorageNames.Default)] IPersistentState<TaskRetentionState> state,
    ITaskIndex index,
    Retention.SqlRetentionStore store,
    IOptions<ClusterOptions> cluster,
    NoOrgSettings settings,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<TaskRetentionGrain> logger) : Grain, ITaskRetentionGrain, IRemindable
{
    internal const string Reminder = "cleanup";
    internal const int MaxPerRun = 10_000;
    private const int BatchSize = 200;

    /// <summary>Tasks a run may step over because they cannot go yet, before it stops.</summary>
    internal const int MaxKeptPerRun = 2_000;
    private const int Parallelism = 16;

    public async Task EnsureScheduledAsync()
    {
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var interval = TimeSpan.FromMinutes(settings.Tasks.CleanupIntervalMinutes);
        var period = interval > minimum ? interval : minimum;

        // Re-registering on every silo start would push the first run back each time: keep a matching reminder.
        if (state.State.Period == period && await this.GetReminder(Reminder) is not null)
        {
            return;
        }

        await this.RegisterOrUpdateReminder(Reminder, period, period);
        state.State = state.State with { Period = period };
        await state.WriteStateAsync();
        LogScheduled(logger, period.TotalMinutes);
    }

    public async Task<int> CleanupAsync(TimeSpan? olderThan)
    {
        if (olderThan < TimeSpan.Zero)
        {
            throw new ValidationException($"olderThan: must be 0 or more when set (got {olderThan}).");
        }

        var cutoff = clock.GetUtcNow() - (olderThan ?? TimeSpan.FromDays(settings.Tasks.RetentionDays));
        var removed = 0;
        var kept = 0;
        FinishedTask? after = null;

        // Oldest first, page by page. A task that cannot go yet (events still to deliver) is stepped over, so it holds
        // back no newer one; the next run looks at it again. Tasks kept count towards a bound of their own, so a run
        // over many of them still ends.
        while (removed < MaxPerRun && kept < MaxKeptPerRun)
        {
            var page = await index.FinishedBeforeAsync(cutoff, Math.Min(BatchSize, MaxPerRun - removed), after);
            if (page.Count == 0)
            {
                break;
            }

            foreach (var chunk in page.Chunk(Parallelism))
            {
                var results = await Task.WhenAll(chunk.Select(t => PurgeAsync(t.Id)));
                var purged = results.Count(r => r);
                removed += purged;
                kept += results.Length - purged;
            }

            after = page[^1];
        }

        if (removed > 0)
        {
            LogCleaned(logger, removed, cutoff);
        }

        await store.RecordRunAsync(Retention.RetentionKinds.Tasks, clock.GetUtcNow(), removed);
        return removed;
    }

    /// <summary>Purges the task through its grain, then drops the grain-state row its cleared state leaves behind.</summary>
    private async Task<bool> PurgeAsync(string id)
    {
        if (!await GrainFactory.GetGrain<ITaskGrain>(id).PurgeAsync())
        {
            return false;
        }

        await store.DeleteClearedStateAsync(cluster.Value.ServiceId, TaskGrain.StateName, id);
        return true;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => CleanupAsync(null);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task retention clean-up scheduled every {Minutes} minutes")]
    private static partial void LogScheduled(ILogger logger, double minutes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task retention removed {Count} finished tasks older than {Cutoff}")]
    private static partial void LogCleaned(ILogger logger, int count, DateTimeOffset cutoff);
}

[GenerateSerializer, Alias("noorg.tasks.retention-state")]
public sealed record TaskRetentionState
{
    /// <summary>The period the clean-up reminder was registered with; a changed setting re-registers it.</summary>
    [Id(0)] public TimeSpan? Period { get; init; }
}
