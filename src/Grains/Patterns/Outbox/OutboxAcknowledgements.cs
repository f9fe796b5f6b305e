using Microsoft.Extensions.Logging;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Deletes delivered outbox rows for every relay on this silo, in batches: the first acknowledgement starts a flush
/// <see cref="Gather"/> later, so the deliveries of that window (one grain's quick succession of changes, or many
/// grains' at one caller each) share one delete; those that arrive while it runs go together in the next one. The
/// window is off every caller's path: a delivered row only waits a little longer to be deleted. A failed
/// flush is retried with a growing pause, so a database outage costs nothing but redeliveries if the silo dies
/// meanwhile (receivers de-duplicate). Rows waiting here are "unsettled": a relay that reloads its rows skips them.
/// </summary>
internal sealed partial class OutboxAcknowledgements(SqlOutboxStore store, ILogger<OutboxAcknowledgements> logger)
{
    /// <summary>How long the first acknowledgement waits for others before its delete goes out.</summary>
    internal static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private readonly HashSet<OutboxRowKey> unsettled = [];
    private List<(OutboxRowKey Key, TaskCompletionSource Done)> queued = [];
    private bool flushing;

    /// <summary>The row was delivered: it is deleted with the next flush; the task completes once that is committed.</summary>
    public Task AcknowledgeAsync(OutboxRowKey key)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (gate)
        {
            queued.Add((key, done));
            unsettled.Add(key);
            start = !flushing;
            flushing = true;
        }

        if (start)
        {
            // Off the grain's scheduler: the flush serves every grain of the silo.
            _ = Task.Run(async () =>
            {
                await Task.Delay(Gather);
                await FlushAsync();
            });
        }

        return done.Task;
    }

    /// <summary>Whether the row was acknowledged here but its delete is not committed yet.</summary>
    public bool IsUnsettled(OutboxRowKey key)
    {
        lock (gate)
        {
            return unsettled.Contains(key);
        }
    }

    private async Task FlushAsync()
    {
        var pause = FirstRetry;
        while (true)
        {
            List<(OutboxRowKey Key, TaskCompletionSource Done)> batch;
            lock (gate)
            {
                if (queued.Count == 0)
                {
                    flushing = false;
                    return;
                }

                batch = queued;
                queued = [];
            }

            try
            {
                await store.DeleteAsync([.. batch.Select(b => b.Key).Distinct()]);
                pause = FirstRetry;
            }
            catch (Exception e)
            {
                LogFlushFailed(logger, e, batch.Count, pause.TotalSeconds);
                lock (gate)
                {
                    queued.InsertRange(0, batch);
                }

                await Task.Delay(pause);
                pause = pause * 2 > LongestRetry ? LongestRetry : pause * 2;
                continue;
            }

            lock (gate)
            {
                foreach (var (key, _) in batch)
                {
                    unsettled.Remove(key);
                }
            }

            foreach (var (_, done) in batch)
            {
                done.TrySetResult();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox: {Rows} delivered row(s) could not be deleted; retrying in {PauseSeconds:0.###}s")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int rows, double pauseSeconds);
}
