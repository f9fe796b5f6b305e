using System.Runtime.CompilerServices;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;
using NoOrg.Grains.Watching;

namespace NoOrg.Client.Watching;

/// <summary>Watches of tasks, agents and sagas: one entity (gaps filled from its history) or all of a kind (through the hubs).</summary>
internal static class Watches
{
    private const int CatchUpPage = 100;

    public static IAsyncEnumerable<TaskEvent> Tasks(IClusterClient client, string? taskId, CancellationToken cancellationToken) =>
        EnumerateAsync<TaskEvent>(taskId is null ? () => AllTasksAsync(client) : () => TaskAsync(client, taskId!), cancellationToken);

    /// <summary>Live when it returns: every task change from then on.</summary>
    public static Task<ChangeWatch<TaskEvent>> AllTasksAsync(IClusterClient client) => ChangeWatch<TaskEvent>.AllAsync(
        w => Hubs<ITaskWatcher, ITaskWatchHubGrain>(client, new TaskWatcher(w), (h, r) => h.WatchAsync(r), (h, r) => h.UnwatchAsync(r)), e => e.Sequence);

    public static Task<ChangeWatch<TaskEvent>> TaskAsync(IClusterClient client, string taskId)
    {
        var grain = client.GetGrain<ITaskGrain>(taskId);
        return ChangeWatch<TaskEvent>.EntityAsync(
            w => One<ITaskWatcher>(client, new TaskWatcher(w), grain.WatchAsync, grain.UnwatchAsync),
            e => e.Sequence,
            async after => (await grain.GetHistoryAsync(Skip(after), CatchUpPage)).Items);
    }

    public static IAsyncEnumerable<AgentEvent> Agents(IClusterClient client, string? agentId, CancellationToken cancellationToken)
    {
        if (agentId is null)
        {
            return EnumerateAsync(() => ChangeWatch<AgentEvent>.AllAsync(
                w => Hubs<IAgentWatcher, IAgentWatchHubGrain>(client, new AgentWatcher(w), (h, r) => h.WatchAsync(r), (h, r) => h.UnwatchAsync(r)), e => e.Sequence),
                cancellationToken);
        }

        var grain = client.GetGrain<IAgentGrain>(agentId);
        return EnumerateAsync(() => ChangeWatch<AgentEvent>.EntityAsync(
            w => One<IAgentWatcher>(client, new AgentWatcher(w), grain.WatchAsync, grain.UnwatchAsync),
            e => e.Sequence,
            async after =>
            {
                // Agent history pages newest first: read back until the page reaches what was seen.
                var found = new List<AgentEvent>();
                for (var skip = 0; skip < 10 * CatchUpPage; skip += CatchUpPage)
                {
                    var page = await grain.GetHistoryAsync(skip, CatchUpPage);
                    found.AddRange(page.Items.Where(e => e.Sequence > after));
                    if (page.Items.Count < CatchUpPage || page.Items.Min(e => e.Sequence) <= after + 1)
                    {
                        break;
                    }
                }

                return found;
            }), cancellationToken);
    }

    public static IAsyncEnumerable<SagaLogEntry> Sagas(IClusterClient client, string? sagaId, CancellationToken cancellationToken) =>
        EnumerateAsync<SagaLogEntry>(sagaId is null
            ? () => ChangeWatch<SagaLogEntry>.AllAsync(
                w => Hubs<ISagaWatcher, ISagaWatchHubGrain>(client, new SagaWatcher(w), (h, r) => h.WatchAsync(r), (h, r) => h.UnwatchAsync(r)), e => e.Sequence)
            : () => SagaAsync(client, sagaId), cancellationToken);

    public static Task<ChangeWatch<SagaLogEntry>> SagaAsync(IClusterClient client, string sagaId)
    {
        var grain = client.GetGrain<ISagaGrain>(sagaId);
        return ChangeWatch<SagaLogEntry>.EntityAsync(
            w => One<ISagaWatcher>(client, new SagaWatcher(w), grain.WatchAsync, grain.UnwatchAsync),
            e => e.Sequence,
            async after => (await grain.GetLogAsync(Skip(after), CatchUpPage)).Items);
    }

    private static int Skip(long after) => (int)Math.Min(after, int.MaxValue);

    private static WatchSources One<TWatcher>(
        IClusterClient client, TWatcher observer, Func<TWatcher, Task<WatchPoint>> watch, Func<TWatcher, Task> unwatch) where TWatcher : IGrainObserver
    {
        var reference = client.CreateObjectReference<TWatcher>(observer);
        return new WatchSources(async () => [await watch(reference)], () => unwatch(reference), () => Release(client, reference, observer));
    }

    private static WatchSources Hubs<TWatcher, THub>(
        IClusterClient client, TWatcher observer, Func<THub, TWatcher, Task<WatchPoint>> watch, Func<THub, TWatcher, Task> unwatch)
        where TWatcher : IGrainObserver where THub : IGrainWithIntegerKey
    {
        var reference = client.CreateObjectReference<TWatcher>(observer);
        var hubs = Enumerable.Range(0, WatchHubs.Count).Select(h => client.GetGrain<THub>(h)).ToArray();
        return new WatchSources(
            async () => await Task.WhenAll(hubs.Select(h => watch(h, reference))),
            () => Task.WhenAll(hubs.Select(h => unwatch(h, reference))),
            () => Release(client, reference, observer));
    }

    /// <summary>The observer object must stay reachable while it is watched: the runtime holds it only weakly.</summary>
    private static void Release<TWatcher>(IClusterClient client, TWatcher reference, TWatcher observer) where TWatcher : IGrainObserver
    {
        client.DeleteObjectReference<TWatcher>(reference);
        GC.KeepAlive(observer);
    }

    private static async IAsyncEnumerable<TEvent> EnumerateAsync<TEvent>(
        Func<Task<ChangeWatch<TEvent>>> start, [EnumeratorCancellation] CancellationToken cancellationToken) where TEvent : class
    {
        await using var watch = await start();
        while (true)
        {
            TEvent next;
            try
            {
                next = await watch.ReadAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break; // the caller stopped watching: the end of the sequence, not an error
            }

            yield return next;
        }
    }
}
