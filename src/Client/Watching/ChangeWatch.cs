using System.Threading.Channels;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Watching;

namespace NoOrg.Client.Watching;

/// <summary>
/// Changes pushed to this client by the grains (no polling, nothing stored per watcher). A subscription lasts a
/// minute on the grain side; it is renewed every <see cref="RenewInterval"/>, and each renewal says where the source
/// stands, so a change that was pushed but never arrived is noticed within one interval.
/// </summary>
internal sealed class ChangeWatch<TEvent> : IAsyncDisposable where TEvent : class
{
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(10);

    /// <summary>Changes a watcher may fall behind by before it is told it missed some.</summary>
    public const int Capacity = 10_000;

    private readonly Func<ChangeWatch<TEvent>, WatchSources> bind;
    private WatchSources sources = null!;
    private readonly Func<TEvent, long> sequence;
    private readonly Func<long, Task<IReadOnlyList<TEvent>>>? catchUp;
    private readonly Channel<Pushed> inbox = Channel.CreateBounded<Pushed>(new BoundedChannelOptions(Capacity) { SingleReader = true });
    private readonly CancellationTokenSource stop = new();
    private readonly Queue<TEvent> ready = new();
    private readonly HubPositions hubs = new();
    private Task? renewing;
    private long last;
    private volatile bool overflowed;

    private ChangeWatch(Func<ChangeWatch<TEvent>, WatchSources> bind, Func<TEvent, long> sequence, Func<long, Task<IReadOnlyList<TEvent>>>? catchUp)
    {
        this.bind = bind;
        this.sequence = sequence;
        this.catchUp = catchUp;
    }

    /// <summary>
    /// One entity: never misses a change, since a gap in its sequence is filled from its durable history by
    /// <paramref name="catchUp"/> (the events after a sequence number, oldest first).
    /// </summary>
    public static Task<ChangeWatch<TEvent>> EntityAsync(
        Func<ChangeWatch<TEvent>, WatchSources> bind, Func<TEvent, long> sequence, Func<long, Task<IReadOnlyList<TEvent>>> catchUp) =>
        StartAsync(new ChangeWatch<TEvent>(bind, sequence, catchUp));

    /// <summary>Every entity of a kind, through the hubs: a change that cannot be accounted for ends the watch with a <see cref="WatchGapException"/>.</summary>
    public static Task<ChangeWatch<TEvent>> AllAsync(Func<ChangeWatch<TEvent>, WatchSources> bind, Func<TEvent, long> sequence) =>
        StartAsync(new ChangeWatch<TEvent>(bind, sequence, null));

    /// <summary>What the observer objects call: a push, never blocking the grain that sent it.</summary>
    public void Receive(TEvent change, WatchPoint point)
    {
        if (!inbox.Writer.TryWrite(new Pushed(change, point)))
        {
            overflowed = true;
        }
    }

    /// <summary>The next change; waits for one.</summary>
    public async Task<TEvent> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (ready.TryDequeue(out var next))
            {
                return next;
            }

            if (overflowed)
            {
                await OverflowedAsync();
                continue;
            }

            var pushed = await inbox.Reader.ReadAsync(cancellationToken);
            if (catchUp is null)
            {
                OnHubPush(pushed);
            }
            else
            {
                await OnEntityPushAsync(pushed);
            }
        }
    }

    /// <summary>True when a change came within <paramref name="timeout"/>: what a wait loop needs between two reads.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        within.CancelAfter(timeout);
        try
        {
            await ReadAsync(within.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<ChangeWatch<TEvent>> StartAsync(ChangeWatch<TEvent> watch)
    {
        watch.sources = watch.bind(watch);
        IReadOnlyList<WatchPoint> points;
        try
        {
            points = await watch.sources.WatchAsync();
        }
        catch
        {
            watch.sources.Dispose();
            throw;
        }

        foreach (var point in points)
        {
            watch.last = point.Number;
            watch.hubs.Start(point);
        }

        watch.renewing = watch.RenewAsync();
        return watch;
    }

    private async Task OnEntityPushAsync(Pushed pushed)
    {
        if (pushed.Change is not { } change)
        {
            if (pushed.Point.Number < last)
            {
                last = 0; // the entity started over (registered again after removal): its new history from the start
            }

            if (pushed.Point.Number > last)
            {
                await FillAsync(pushed.Point.Number + 1); // a renewal shows changes that were pushed but never arrived
            }

            return;
        }

        var number = sequence(change);
        if (number <= last)
        {
            return; // already seen (filled from the history before the push arrived)
        }

        if (number > last + 1)
        {
            await FillAsync(number);
        }

        if (number > last)
        {
            ready.Enqueue(change);
            last = number;
        }
    }

    /// <summary>Queues the history's events after the last one seen and before <paramref name="until"/>.</summary>
    private async Task FillAsync(long until)
    {
        while (last < until)
        {
            IReadOnlyList<TEvent> events;
            try
            {
                events = await catchUp!(last);
            }
            catch (NotFoundException)
            {
                return; // removed meanwhile: nothing more to read
            }

            var added = false;
            foreach (var e in events.Where(e => sequence(e) > last).OrderBy(sequence))
            {
                if (sequence(e) >= until)
                {
                    break;
                }

                ready.Enqueue(e);
                last = sequence(e);
                added = true;
            }

            if (!added)
            {
                return; // the history holds no more (removed by retention): go on from the push
            }
        }
    }

    private void OnHubPush(Pushed pushed)
    {
        var verdict = pushed.Change is null ? hubs.Renewed(pushed.Point, DateTimeOffset.UtcNow) : hubs.Pushed(pushed.Point, DateTimeOffset.UtcNow);
        if (verdict.Gap is { } gap)
        {
            throw new WatchGapException(gap);
        }

        if (pushed.Change is not null && verdict.Deliver)
        {
            ready.Enqueue(pushed.Change);
        }
    }

    private async Task OverflowedAsync()
    {
        if (catchUp is null)
        {
            throw new WatchGapException(
                $"this watcher fell more than {Capacity} changes behind and some were dropped; watch again, and list to see the current state");
        }

        // One entity: drop what is buffered and read the history instead, which has it all in order.
        overflowed = false;
        while (inbox.Reader.TryRead(out _))
        {
        }

        var points = await sources.WatchAsync();
        await FillAsync(points.Max(p => p.Number) + 1);
    }

    private async Task RenewAsync()
    {
        using var timer = new PeriodicTimer(RenewInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                try
                {
                    foreach (var point in await sources.WatchAsync())
                    {
                        if (!inbox.Writer.TryWrite(new Pushed(null, point)))
                        {
                            overflowed = true;
                        }
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The cluster is unreachable for now; the next renewal that succeeds shows what went by.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        if (renewing is not null)
        {
#pragma warning disable VSTHRD003 // started by this watch (StartAsync), on the thread pool: no context to deadlock on
            await renewing;
#pragma warning restore VSTHRD003
        }

        try
        {
            await sources.UnwatchAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The subscription lapses within a minute anyway.
        }

        sources.Dispose();
        stop.Dispose();
    }

    private readonly record struct Pushed(TEvent? Change, WatchPoint Point);
}
