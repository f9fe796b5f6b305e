using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Sagas;
using Orleans.Configuration;

namespace NoOrg.Grains.Retention;

/// <summary>
/// On a reminder every <c>NOORG_RETENTION_INTERVAL_SECONDS</c>, removes what is past its retention, one kind after
/// the other, in batches of <c>NOORG_RETENTION_BATCH_SIZE</c> (each its own short transaction, so the write path
/// never waits on a long one) up to <c>NOORG_RETENTION_MAX_PER_RUN</c> per kind, and records each run.
/// </summary>
public sealed partial class RetentionGrain(
    [PersistentState("retention", StorageNames.Default)] IPersistentState<RetentionState> state,
    SqlRetentionStore store,
    IInbox inbox,
    NoOrgSettings settings,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    IOptions<ClusterOptions> cluster,
    ILogger<RetentionGrain> logger) : Grain, IRetentionGrain, IRemindable
{
    internal const string Reminder = "retention";

    /// <summary>Samples this recent stay whatever their rank: completions per minute counts them.</summary>
    internal static readonly TimeSpan RecentSamples = Tasks.SqlTaskIndex.CompletionRateWindow;

    private const int SagaParallelism = 8;

    private RetentionSettings Retention => settings.Retention;

    public async Task EnsureScheduledAsync()
    {
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var interval = TimeSpan.FromSeconds(Retention.IntervalSeconds);
        var period = interval > minimum ? interval : minimum;

        // Re-registering on every silo start would push the next run back each time: keep a matching reminder.
        if (state.State.Period == period && await this.GetReminder(Reminder) is not null)
        {
            return;
        }

        await this.RegisterOrUpdateReminder(Reminder, period, period);
        state.State = state.State with { Period = period };
        await state.WriteStateAsync();
        LogScheduled(logger, period.TotalSeconds);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => RunAsync();

    public async Task<RetentionRun> RunAsync()
    {
        var now = clock.GetUtcNow();
        var service = cluster.Value.ServiceId;
        var removed = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            [RetentionKinds.Tasks] = await TasksAsync(),
            [RetentionKinds.AbandonedScopes] = await RunKindAsync(RetentionKinds.AbandonedScopes, now,
                () => ExpireScopesAsync(now - TimeSpan.FromSeconds(settings.Sagas.ScopeTimeoutSeconds))),
            [RetentionKinds.Sagas] = await RunKindAsync(RetentionKinds.Sagas, now, () => RemoveSagasAsync(now - Hours(Retention.SagaHours))),
            [RetentionKinds.TaskSamples] = await RunKindAsync(RetentionKinds.TaskSamples, now,
                () => Rows(() => store.DeleteSamplesAsync(settings.Tasks.SampleWindow, now - RecentSamples, Retention.BatchSize))),
            [RetentionKinds.HealthIssues] = await RunKindAsync(RetentionKinds.HealthIssues, now,
                () => Rows(() => store.DeleteResolvedIssuesAsync(now - Hours(Retention.ResolvedIssueHours), Retention.BatchSize))),
            [RetentionKinds.DeadLetters] = await RunKindAsync(RetentionKinds.DeadLetters, now,
                () => Rows(() => store.DeleteDeadLettersAsync(service, now - Hours(Retention.DeadLetterHours), Retention.BatchSize))),
            [RetentionKinds.Inbox] = await RunKindAsync(RetentionKinds.Inbox, now,
                () => Rows(() => inbox.PurgeAsync(now - TimeSpan.FromHours(settings.Outbox.InboxRetentionHours), Retention.BatchSize))),
            [RetentionKinds.TaskCounters] = await RunKindAsync(RetentionKinds.TaskCounters, now,
                async () => { var n = await store.DeleteEmptyTaskCountersAsync(Retention.BatchSize); return (n, n > 0); }),
        };

        return new RetentionRun(now, removed);
    }

    /// <summary>Tasks have their own grain (and reminder, NOORG_TASKS_CLEANUP_INTERVAL_MINUTES), which records its runs; each run here asks it too.</summary>
    private async Task<long> TasksAsync()
    {
        try
        {
            return await GrainFactory.GetGrain<Tasks.ITaskRetentionGrain>(Tasks.ITaskRetentionGrain.Key).CleanupAsync(null);
        }
        catch (Exception e)
        {
            LogKindFailed(logger, e, RetentionKinds.Tasks, 0);
            return 0;
        }
    }

    /// <summary>Batches until one comes back short or the run's bound is reached; a failing kind does not stop the others.</summary>
    private async Task<long> RunKindAsync(string kind, DateTimeOffset now, Func<Task<(int Removed, bool More)>> batch)
    {
        long removed = 0;
        try
        {
            while (removed < Retention.MaxPerRun)
            {
                var (count, more) = await batch();
                removed += count;
                if (!more)
                {
                    break;
                }
            }

            await store.RecordRunAsync(kind, now, removed);
        }
        catch (Exception e)
        {
            LogKindFailed(logger, e, kind, removed);
            return removed;
        }

        if (removed > 0)
        {
            LogRemoved(logger, removed, kind);
        }

        return removed;
    }

    /// <summary>One batch of finished sagas, each removed whole through its coordinator; returns how many went.</summary>
    private async Task<(int, bool)> RemoveSagasAsync(DateTimeOffset cutoff)
    {
        var ids = await store.FinishedSagasAsync(cutoff, Retention.BatchSize);
        var removed = await CountOnEachAsync(ids, saga => saga.RemoveAsync());

        // A full batch of which none could go yet (events still to deliver) would come back the same: stop there.
        return (removed, ids.Count == Retention.BatchSize && removed > 0);
    }

    /// <summary>
    /// One batch of open scopes past their time-out, each asked to time itself out: a scope's own reminder does that,
    /// but scopes opened before scopes armed one have none, and a reminder can be lost with its row. One batch a run.
    /// </summary>
    private async Task<(int, bool)> ExpireScopesAsync(DateTimeOffset cutoff)
    {
        var ids = await store.AbandonedScopesAsync(cutoff, Retention.BatchSize);
        return (await CountOnEachAsync(ids, scope => scope.ExpireIfAbandonedAsync()), false);
    }

    /// <summary>Calls <paramref name="call"/> on each saga, <see cref="SagaParallelism"/> at a time; counts the trues.</summary>
    private async Task<int> CountOnEachAsync(IReadOnlyList<string> ids, Func<ISagaRemoval, Task<bool>> call)
    {
        var count = 0;
        foreach (var chunk in ids.Chunk(SagaParallelism))
        {
            var results = await Task.WhenAll(chunk.Select(id => call(GrainFactory.GetGrain<ISagaRemoval>(id))));
            count += results.Count(r => r);
        }

        return count;
    }

    private async Task<(int, bool)> Rows(Func<Task<int>> batch)
    {
        var count = await batch();
        return (count, count == Retention.BatchSize);
    }

    private static TimeSpan Hours(double hours) => TimeSpan.FromHours(hours);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention clean-up scheduled every {Seconds} s")]
    private static partial void LogScheduled(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention removed {Count} {Kind}")]
    private static partial void LogRemoved(ILogger logger, long count, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention of {Kind} failed after removing {Count}; the next run continues")]
    private static partial void LogKindFailed(ILogger logger, Exception exception, string kind, long count);
}

[GenerateSerializer, Alias("noorg.retention.state")]
public sealed record RetentionState
{
    /// <summary>The period the clean-up reminder was registered with; a changed setting re-registers it.</summary>
    [Id(0)] public TimeSpan? Period { get; init; }
}
