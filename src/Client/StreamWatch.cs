using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Orleans.Streams;

namespace NoOrg.Client;

/// <summary>A cluster stream as an <see cref="IAsyncEnumerable{T}"/>: subscribed on the first read, unsubscribed when the loop ends.</summary>
internal static class StreamWatch
{
    public static async IAsyncEnumerable<T> WatchAsync<T>(IClusterClient client, StreamId stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
        var subscription = await client.GetStreamProvider(Grains.NoOrgStreams.Provider).GetStream<T>(stream)
            .SubscribeAsync((e, _) => events.Writer.WriteAsync(e, CancellationToken.None).AsTask());
        try
        {
            while (true)
            {
                T next;
                try
                {
                    next = await events.Reader.ReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break; // the caller stopped watching: the end of the sequence, not an error
                }

                yield return next;
            }
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }

    /// <summary>
    /// Signals each change on <paramref name="stream"/> until disposed: what a wait loop needs between two reads of the
    /// grain (which it does anyway, so an event missed while subscribing costs at most one poll interval).
    /// </summary>
    public static async Task<ChangeSignal<T>> SignalAsync<T>(IClusterClient client, StreamId stream)
    {
        var changed = new SemaphoreSlim(0);
        var handle = await client.GetStreamProvider(Grains.NoOrgStreams.Provider).GetStream<T>(stream)
            .SubscribeAsync((_, _) =>
            {
                changed.Release();
                return Task.CompletedTask;
            });
        return new ChangeSignal<T>(handle, changed);
    }
}

internal sealed class ChangeSignal<T>(StreamSubscriptionHandle<T> handle, SemaphoreSlim changed) : IAsyncDisposable
{
    /// <summary>True when a change came within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => changed.WaitAsync(timeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await handle.UnsubscribeAsync();
        changed.Dispose();
    }
}
