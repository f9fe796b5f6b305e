using Microsoft.Extensions.Logging;
using NoOrg.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// The delivering half of an outbox, owned by the grain that embeds it (one per activation, made by
/// <see cref="OutboxRelayFactory"/>). The grain records messages with <see cref="OutboxState.Add"/> in the state it
/// writes, then calls <see cref="Written"/>; the relay delivers right after the grain's turn, in order per target,
/// retries failures with jittered exponential back-off (attempts are persisted), and dead-letters after
/// <c>NOORG_OUTBOX_MAX_ATTEMPTS</c>. Delivered entries leave the state in memory at once and in storage with the
/// grain's next write, or after <c>NOORG_OUTBOX_CLEANUP_DELAY_MS</c>: a crash before that only means a redelivery,
/// which receivers absorb with the inbox.
/// </summary>
public sealed partial class OutboxRelay
{
    private readonly Grain host;
    private readonly Func<OutboxState> read;
    private readonly Action<OutboxState> apply;
    private readonly Func<Task> write;
    private readonly OutboxTargets targets;
    private readonly OutboxSettings settings;
    private readonly TimeProvider clock;
    private readonly ILogger logger;
    private IGrainTimer? deliveryTimer;
    private IGrainTimer? cleanupTimer;

    /// <summary>True while storage still lists entries already delivered (removed in memory only).</summary>
    private bool storedHasDelivered;

    internal OutboxRelay(
        Grain host, Func<OutboxState> read, Action<OutboxState> apply, Func<Task> write, OutboxTargets targets, OutboxSettings settings,
        TimeProvider clock, ILogger logger)
    {
        this.host = host;
        this.read = read;
        this.apply = apply;
        this.write = write;
        this.targets = targets;
        this.settings = settings;
        this.clock = clock;
        this.logger = logger;
    }

    private string HostId => host.GetGrainId().ToString();

    /// <summary>
    /// The host wrote its state (with or without new messages): storage now matches memory. Delivery starts right
    /// after the current turn, so the caller's answer never waits on a receiver.
    /// </summary>
    public void Written()
    {
        storedHasDelivered = false;
        ScheduleDelivery();
    }

    /// <summary>Call from <c>OnActivateAsync</c>: messages left by an earlier activation go out now.</summary>
    public void Activated() => ScheduleDelivery();

    /// <summary>Call from <c>OnDeactivateAsync</c>: stores the removal of delivered entries, if still owed.</summary>
    public async Task DeactivatingAsync()
    {
        if (storedHasDelivered)
        {
            await PersistAsync();
        }
    }

    /// <summary>Delivers every entry that is due, in order per target; returns how many remain pending.</summary>
    public async Task<int> DeliverDueAsync()
    {
        var now = clock.GetUtcNow();
        var blocked = new HashSet<OutboxTarget>();
        var delivered = new List<OutboxEntry>();
        var failed = new List<(OutboxEntry Entry, Exception Error)>();
        foreach (var entry in read().Pending)
        {
            // An entry waiting out its back-off holds back later ones to the same target: order per target is kept.
            if (blocked.Contains(entry.Target) || entry.NextAttemptAt > now)
            {
                blocked.Add(entry.Target);
                continue;
            }

            try
            {
                await targets.DeliverAsync(host, entry);
                delivered.Add(entry);
            }
            catch (Exception e)
            {
                failed.Add((entry, e));
                blocked.Add(entry.Target);
            }
        }

        if (delivered.Count > 0 || failed.Count > 0)
        {
            await RecordOutcomesAsync(delivered, failed);
        }

        ScheduleDelivery();
        return read().Pending.Count;
    }

    public IReadOnlyList<OutboxEntryView> View()
    {
        var outbox = read();
        return [.. outbox.Pending.Select(e => e.View(dead: false)), .. outbox.Dead.Select(e => e.View(dead: true))];
    }

    /// <summary>Dead letters (all, or those of one message id) back to pending with fresh attempts; returns how many.</summary>
    public async Task<int> RetryDeadAsync(string? messageId)
    {
        var outbox = read();
        var revived = outbox.Dead.Where(e => messageId is null || e.Message.Id == messageId).ToArray();
        if (revived.Length == 0)
        {
            return 0;
        }

        apply(outbox with
        {
            Pending = [.. outbox.Pending, .. revived.Select(e => e with { Attempts = 0, NextAttemptAt = null })],
            Dead = [.. outbox.Dead.Except(revived)],
        });
        await PersistAsync();
        ScheduleDelivery();
        return revived.Length;
    }

    private async Task RecordOutcomesAsync(List<OutboxEntry> delivered, List<(OutboxEntry Entry, Exception Error)> failed)
    {
        var now = clock.GetUtcNow();
        var outbox = read();
        var pending = new List<OutboxEntry>();
        var dead = new List<OutboxEntry>(outbox.Dead);
        foreach (var entry in outbox.Pending)
        {
            if (delivered.Any(d => d.SameAs(entry)))
            {
                continue;
            }

            var failure = failed.FirstOrDefault(f => f.Entry.SameAs(entry));
            if (failure.Entry is null)
            {
                pending.Add(entry);
                continue;
            }

            var attempts = entry.Attempts + 1;
            var error = Describe(failure.Error);
            if (attempts >= settings.MaxAttempts)
            {
                LogDeadLettered(logger, failure.Error, HostId, entry.Message.Id, entry.Target.ToString(), attempts);
                dead.Add(entry with { Attempts = attempts, NextAttemptAt = null, LastError = error });
            }
            else
            {
                var delay = Backoff(attempts);
                LogRetry(logger, HostId, entry.Message.Id, entry.Target.ToString(), attempts, delay.TotalSeconds, error);
                pending.Add(entry with { Attempts = attempts, NextAttemptAt = now + delay, LastError = error });
            }
        }

        apply(outbox with { Pending = pending, Dead = dead });
        if (failed.Count > 0 || settings.CleanupDelayMs == 0)
        {
            // Attempt counts and dead letters must survive a restart, or back-off and the attempt limit would reset.
            await PersistAsync();
        }
        else
        {
            storedHasDelivered = true;
            var due = TimeSpan.FromMilliseconds(settings.CleanupDelayMs);
            if (cleanupTimer is null)
            {
                cleanupTimer = host.RegisterGrainTimer(_ => CleanUpAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
            }
            else
            {
                cleanupTimer.Change(due, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private Task CleanUpAsync() => storedHasDelivered ? PersistAsync() : Task.CompletedTask;

    private async Task PersistAsync()
    {
        try
        {
            await write();
            storedHasDelivered = false;
        }
        catch (Exception e)
        {
            // Memory is ahead of storage: at worst entries are delivered again (receivers de-duplicate) and their
            // attempt counts restart from the last stored value.
            LogPersistFailed(logger, e, HostId);
        }
    }

    /// <summary>base x 2^(attempts-1), capped, then "equal jitter": a random point in the upper half.</summary>
    internal TimeSpan Backoff(int attempts)
    {
        var capped = Math.Min(settings.RetryBaseMs * Math.Pow(2, Math.Min(attempts - 1, 30)), settings.RetryMaxSeconds * 1000.0);
        return TimeSpan.FromMilliseconds(capped / 2 + (Random.Shared.NextDouble() * capped / 2));
    }

    /// <summary>Runs delivery when the first entry of some target is due (entries behind it wait for it).</summary>
    private void ScheduleDelivery()
    {
        var pending = read().Pending;
        if (pending.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var earliest = pending.GroupBy(e => e.Target).Min(g => g.First().NextAttemptAt ?? now);
        var due = earliest - now;
        due = due < TimeSpan.Zero ? TimeSpan.Zero : due;
        if (deliveryTimer is null)
        {
            deliveryTimer = host.RegisterGrainTimer(
                _ => DeliverDueAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
        else
        {
            deliveryTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private static string Describe(Exception e)
    {
        var text = $"{e.GetType().Name}: {e.Message}";
        return text.Length > 1000 ? text[..1000] + "…" : text;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox of {Host}: message {MessageId} to {Target} failed (attempt {Attempt}); retrying in {DelaySeconds:0.###}s: {Error}")]
    private static partial void LogRetry(ILogger logger, string host, string messageId, string target, int attempt, double delaySeconds, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox of {Host}: message {MessageId} to {Target} dead-lettered after {Attempts} attempts")]
    private static partial void LogDeadLettered(ILogger logger, Exception exception, string host, string messageId, string target, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox of {Host}: progress could not be stored; it is retried with the next write")]
    private static partial void LogPersistFailed(ILogger logger, Exception exception, string host);
}
