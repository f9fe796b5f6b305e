using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// The delivering half of an outbox, owned by the grain that embeds it (one per activation, made by
/// <see cref="OutboxRelayFactory"/>). The grain records messages with <see cref="OutboxState.Add"/> in the state it
/// writes (the database copies them into <c>noorg_outbox</c> in that same statement), then calls
/// <see cref="Written"/>; the relay delivers right after the grain's turn, in order per target, retries failures with
/// jittered exponential back-off and dead-letters after <c>NOORG_OUTBOX_MAX_ATTEMPTS</c>, all in the rows: the grain
/// state is never written for delivery. A delivered row is deleted by <see cref="OutboxAcknowledgements"/>; a crash
/// before that only means a redelivery, which receivers absorb with the inbox.
/// </summary>
public sealed partial class OutboxRelay
{
    // A deactivating grain waits this long for its delivered rows to be deleted, so a next activation elsewhere
    // does not deliver them again.
    private static readonly TimeSpan SettleOnDeactivation = TimeSpan.FromSeconds(5);

    private readonly Grain host;
    private readonly OutboxOwner owner;
    private readonly Func<OutboxState> read;
    private readonly Action<OutboxState> apply;
    private readonly SqlOutboxStore store;
    private readonly OutboxAcknowledgements acknowledgements;
    private readonly OutboxTargets targets;
    private readonly OutboxSettings settings;
    private readonly TimeProvider clock;
    private readonly ILogger logger;
    private readonly List<Task> settling = [];
    private IGrainTimer? deliveryTimer;

    /// <summary>False until this activation read its grain's rows: until then it knows of no message.</summary>
    private bool loaded;
    private List<OutboxEntry> pending = [];
    private List<OutboxEntry> dead = [];

    internal OutboxRelay(
        Grain host, OutboxOwner owner, Func<OutboxState> read, Action<OutboxState> apply, SqlOutboxStore store,
        OutboxAcknowledgements acknowledgements, OutboxTargets targets, OutboxSettings settings, TimeProvider clock, ILogger logger)
    {
        this.host = host;
        this.owner = owner;
        this.read = read;
        this.apply = apply;
        this.store = store;
        this.acknowledgements = acknowledgements;
        this.targets = targets;
        this.settings = settings;
        this.clock = clock;
        this.logger = logger;
    }

    private string HostId => host.GetGrainId().ToString();

    /// <summary>
    /// The host wrote its state: the messages it recorded are stored. Delivery starts right after the current turn,
    /// so the caller's answer never waits on a receiver; the first one of an activation reads the rows earlier
    /// activations left, which go first.
    /// </summary>
    public void Written()
    {
        var written = read().New;
        if (written.Count == 0)
        {
            return;
        }

        // The next write records only its own messages (a repeated one would be inserted again after its delete).
        apply(read() with { New = [] });
        if (!loaded)
        {
            Schedule(TimeSpan.Zero);
            return;
        }

        // A message already known (the same id to the same target) has one row: the database kept the first.
        pending.AddRange(written.Where(e => !pending.Any(e.SameAs) && !dead.Any(e.SameAs)));
        ScheduleDelivery();
    }

    /// <summary>
    /// Call from <c>OnActivateAsync</c> with <c>RecordExists</c> of the host's state. The messages of the stored
    /// state's last write are in the rows already, so the next write must not carry them again. Rows left by earlier
    /// activations go out with this activation's first delivery, or when the sweeper finds them. A state never stored
    /// (or cleared) has no rows, so its first delivery need not read them.
    /// </summary>
    public void Activated(bool stored)
    {
        if (read().New.Count > 0)
        {
            apply(read() with { New = [] });
        }

        loaded = !stored;
    }

    /// <summary>Call from <c>OnDeactivateAsync</c>: waits briefly for this activation's delivered rows to be deleted.</summary>
    public async Task DeactivatingAsync()
    {
        settling.RemoveAll(t => t.IsCompleted);
        if (settling.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(settling).WaitAsync(SettleOnDeactivation);
        }
        catch (TimeoutException)
        {
            LogUnsettled(logger, HostId, settling.Count(t => !t.IsCompleted));
        }
    }

    /// <summary>
    /// Reads the grain's rows afresh (the sweeper found some, or an operator asks) and delivers every entry that is
    /// due, in order per target; returns how many remain pending.
    /// </summary>
    public async Task<int> DeliverDueAsync()
    {
        await LoadAsync();
        return await DeliverAsync();
    }

    /// <summary>Pending messages (in order), then dead letters.</summary>
    public async Task<IReadOnlyList<OutboxEntryView>> ViewAsync()
    {
        await EnsureLoadedAsync();
        return [.. pending.Select(e => e.View(dead: false)), .. dead.Select(e => e.View(dead: true))];
    }

    /// <summary>Whether messages are still to be delivered (dead letters do not count).</summary>
    public async Task<bool> HasPendingAsync()
    {
        await EnsureLoadedAsync();
        return pending.Count > 0;
    }

    /// <summary>Dead letters (all, or those of one message id) back to pending with fresh attempts; returns how many.</summary>
    public async Task<int> RetryDeadAsync(string? messageId)
    {
        var revived = await store.ReviveAsync(owner, messageId);
        if (revived > 0)
        {
            // They take their place in recording order again.
            await LoadAsync();
            ScheduleDelivery();
        }

        return revived;
    }

    private async Task<int> DeliverAsync()
    {
        await EnsureLoadedAsync();
        var now = clock.GetUtcNow();
        var blocked = new HashSet<OutboxTarget>();
        var delivered = new List<OutboxEntry>();
        var failed = new List<(OutboxEntry Entry, Exception Error)>();
        foreach (var entry in pending.ToArray())
        {
            // An entry waiting out its back-off holds back later ones to the same target: order per target is kept.
            if (blocked.Contains(entry.Target) || entry.NextAttemptAt > now)
            {
                blocked.Add(entry.Target);
                continue;
            }

            using var span = NoOrgTracing.StartCausedBy(NoOrgTracing.OutboxDeliver, ActivityKind.Producer, entry.Message.TraceParent);
            span.Recorded()?.SetTag(NoOrgTracing.MessageId, entry.Message.Id).SetTag(NoOrgTracing.MessageType, entry.Message.Type)
                .SetTag(NoOrgTracing.TargetKind, MetricNames.Of(entry.Target.Kind)).SetTag(NoOrgTracing.DeliveryAttempt, entry.Attempts + 1);
            try
            {
                await targets.DeliverAsync(host, entry);
                delivered.Add(entry);
                OutboxMetrics.Delivery(entry, clock.GetUtcNow());
            }
            catch (Exception e)
            {
                span.Failed(e);
                failed.Add((entry, e));
                blocked.Add(entry.Target);
            }
        }

        foreach (var entry in delivered)
        {
            pending.RemoveAll(entry.SameAs);
            settling.RemoveAll(t => t.IsCompleted);
            settling.Add(acknowledgements.AcknowledgeAsync(OutboxRowKey.Of(owner, entry)));
        }

        if (failed.Count > 0)
        {
            await RecordFailuresAsync(failed);
        }

        ScheduleDelivery();
        return pending.Count;
    }

    private async Task RecordFailuresAsync(List<(OutboxEntry Entry, Exception Error)> failed)
    {
        var now = clock.GetUtcNow();
        var outcomes = new List<OutboxRow>();
        foreach (var (entry, error) in failed)
        {
            var attempts = entry.Attempts + 1;
            var reason = Describe(error);
            var index = pending.FindIndex(entry.SameAs);
            if (attempts >= settings.MaxAttempts)
            {
                LogDeadLettered(logger, error, HostId, entry.Message.Id, entry.Target.ToString(), attempts);
                OutboxMetrics.Failure(entry, dead: true);
                var letter = entry with { Attempts = attempts, NextAttemptAt = null, LastError = reason };
                if (index >= 0)
                {
                    pending.RemoveAt(index);
                    dead.Add(letter);
                }

                outcomes.Add(new OutboxRow(letter, Dead: true));
            }
            else
            {
                var delay = Backoff(attempts);
                LogRetry(logger, HostId, entry.Message.Id, entry.Target.ToString(), attempts, delay.TotalSeconds, reason);
                OutboxMetrics.Failure(entry, dead: false);
                var retry = entry with { Attempts = attempts, NextAttemptAt = now + delay, LastError = reason };
                if (index >= 0)
                {
                    pending[index] = retry;
                }

                outcomes.Add(new OutboxRow(retry, Dead: false));
            }
        }

        try
        {
            // Attempt counts and dead letters must survive a restart, or back-off and the attempt limit would reset.
            await store.RecordAttemptsAsync(owner, outcomes);
        }
        catch (Exception e)
        {
            // Memory is ahead of storage: after a restart the attempts count again from the last stored value.
            LogPersistFailed(logger, e, HostId);
        }
    }

    private Task EnsureLoadedAsync() => loaded ? Task.CompletedTask : LoadAsync();

    /// <summary>The rows are the truth; those delivered but not yet deleted are left out.</summary>
    private async Task LoadAsync()
    {
        var rows = await store.LoadAsync(owner);
        pending = [.. rows.Where(r => !r.Dead && !acknowledgements.IsUnsettled(OutboxRowKey.Of(owner, r.Entry))).Select(r => r.Entry)];
        dead = [.. rows.Where(r => r.Dead).Select(r => r.Entry)];
        loaded = true;
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
        if (pending.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var earliest = pending.GroupBy(e => e.Target).Min(g => g.First().NextAttemptAt ?? now);
        var due = earliest - now;
        Schedule(due < TimeSpan.Zero ? TimeSpan.Zero : due);
    }

    private void Schedule(TimeSpan due)
    {
        if (deliveryTimer is null)
        {
            deliveryTimer = host.RegisterGrainTimer(
                _ => DeliverAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox of {Host}: attempts could not be stored; they count again from the stored value after a restart")]
    private static partial void LogPersistFailed(ILogger logger, Exception exception, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox of {Host}: deactivating with {Rows} delivered row(s) not yet deleted; another activation may deliver them again")]
    private static partial void LogUnsettled(ILogger logger, string host, int rows);
}
