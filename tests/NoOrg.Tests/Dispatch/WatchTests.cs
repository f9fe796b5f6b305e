using System.Collections.Concurrent;
using System.Diagnostics;
using NoOrg.Client;
using NoOrg.Client.Tasks;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using NoOrg.Grains.Watching;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NoOrg.Tests.Dispatch;

/// <summary>Clients watch a task, all tasks, or an agent: changes are pushed to them right after the commit.</summary>
public abstract class WatchTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private INoOrgClient Api => fixture.Client.AsNoOrgClient("test");

    [SkippableFact]
    public async Task A_client_watching_a_task_and_all_tasks_sees_each_change_in_order()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var created = await Api.Tasks.CreateAsync(new TaskSpec("watched", "echo", RequiredCapabilities: ["nobody-" + Guid.NewGuid().ToString("N")]));
        var id = created.Id;
        using var stop = new CancellationTokenSource(Wait);
        var one = new ConcurrentQueue<(TaskEvent Event, long Ticks)>();
        var all = new ConcurrentQueue<TaskEvent>();
        var watchingOne = Collect(Api.Tasks.WatchAsync(id, stop.Token), e => one.Enqueue((e, Stopwatch.GetTimestamp())));
        var watchingAll = Collect(Api.Tasks.WatchAsync(null, stop.Token), e =>
        {
            if (e.TaskId == id)
            {
                all.Enqueue(e);
            }
        });

        // Both watches are live once a change made after they started reaches them.
        var updates = 0;
        await Eventually.ReturnsAsync(async () =>
        {
            await Api.Tasks.UpdateAsync(id, new TaskUpdate(Description: $"update {++updates}"));
            return !one.IsEmpty && !all.IsEmpty;
        }, seen => seen, Wait, "an update on both watches");
        var before = Stopwatch.GetTimestamp();
        await Api.Tasks.CancelAsync(id, "watch test");
        var acknowledged = Stopwatch.GetTimestamp();

        await Eventually.ReturnsAsync(() => Task.FromResult(one.Any(e => e.Event.Action == TaskAction.Cancelled)), x => x, Wait, "the cancel event");
        await Eventually.ReturnsAsync(() => Task.FromResult(all.Any(e => e.Action == TaskAction.Cancelled)), x => x, Wait, "the cancel event among all tasks");
        await stop.CancelAsync();
        await Task.WhenAll(watchingOne, watchingAll);

        // The one task's watch has every change from its first on, in order; the watch of all has the cancel once.
        var sequences = one.Select(e => e.Event.Sequence).ToArray();
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Length).Select(n => (long)n), sequences);
        Assert.Equal(TaskAction.Cancelled, one.Last().Event.Action);
        Assert.Single(all, e => e.Action == TaskAction.Cancelled);
        var cancelled = one.First(e => e.Event.Action == TaskAction.Cancelled);
        Assert.Equal("watch test", cancelled.Event.Reason);
        output.WriteLine($"cancel call {Stopwatch.GetElapsedTime(before, acknowledged).TotalMilliseconds:F1} ms; event seen " +
            $"{Stopwatch.GetElapsedTime(before, cancelled.Ticks).TotalMilliseconds:F1} ms after the call began");
    }

    [SkippableFact]
    public async Task A_watch_of_one_task_reads_what_it_missed_from_the_history()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var created = await Api.Tasks.CreateAsync(new TaskSpec("watched", "echo", RequiredCapabilities: ["nobody-" + Guid.NewGuid().ToString("N")]));
        using var stop = new CancellationTokenSource(Wait);
        var seen = new ConcurrentQueue<TaskEvent>();
        var watching = Collect(Api.Tasks.WatchAsync(created.Id, stop.Token), seen.Enqueue);
        await Eventually.ReturnsAsync(async () =>
        {
            await Api.Tasks.UpdateAsync(created.Id, new TaskUpdate(Description: "first " + Guid.NewGuid()));
            return seen.Any(e => e.Action == TaskAction.Updated);
        }, x => x, Wait, "an update pushed");

        // A new activation has no watchers: the change it makes is not pushed, and the renewal finds it in the history.
        await fixture.Cluster!.DeactivateAsync(fixture.Client.GetGrain<ITaskGrain>(created.Id));
        await Api.Tasks.UpdateAsync(created.Id, new TaskUpdate(Description: "second"));
        await Api.Tasks.CancelAsync(created.Id, "enough");
        await Eventually.ReturnsAsync(() => Task.FromResult(seen.Any(e => e.Action == TaskAction.Cancelled)), x => x, Wait, "the missed changes read from the history");
        await stop.CancelAsync();
        await watching;

        // Every change from the first seen on, in order, once (the dispatcher notes, between them, that no agent can take the task).
        var sequences = seen.Select(e => e.Sequence).ToArray();
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Length).Select(n => (long)n), sequences);
        Assert.Equal([TaskAction.Updated, TaskAction.Updated, TaskAction.Cancelled],
            seen.Where(e => e.Action != TaskAction.Unassignable).TakeLast(3).Select(e => e.Action));
    }

    [SkippableFact]
    public async Task A_watch_of_all_tasks_ends_with_a_gap_when_a_hub_restarts()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        using var stop = new CancellationTokenSource(Wait);
        var seen = 0;
        var watching = Collect(Api.Tasks.WatchAsync(null, stop.Token), _ => Interlocked.Increment(ref seen));
        var capability = "nobody-" + Guid.NewGuid().ToString("N");
        await Eventually.ReturnsAsync(async () =>
        {
            await Api.Tasks.CreateAsync(new TaskSpec("watched", "echo", RequiredCapabilities: [capability]));
            return Volatile.Read(ref seen);
        }, n => n > 0, Wait, "the watch of all tasks live");

        for (var hub = 0; hub < WatchHubs.Count; hub++)
        {
            await fixture.Cluster!.DeactivateAsync(fixture.Client.GetGrain<ITaskWatchHubGrain>(hub));
        }

        WatchGapException? gap = null;
        try
        {
            await watching;
        }
        catch (WatchGapException e)
        {
            gap = e;
        }

        Assert.NotNull(gap);
        Assert.Equal("watch-gap", gap.Code);
        Assert.Contains("restarted", gap.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_client_watching_an_agent_sees_its_status_change()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var agentId = "watched-" + Guid.NewGuid().ToString("N")[..8];
        using var stop = new CancellationTokenSource(Wait);
        var seen = new ConcurrentQueue<AgentEvent>();
        var all = new ConcurrentQueue<AgentEvent>();
        var watching = Collect(Api.Agents.WatchAsync(agentId, stop.Token), seen.Enqueue);
        var watchingAll = Collect(Api.Agents.WatchAsync(null, stop.Token), e =>
        {
            if (e.AgentId == agentId)
            {
                all.Enqueue(e);
            }
        });
        var agent = fixture.Client.GetGrain<IAgentGrain>(agentId);
        await Eventually.ReturnsAsync(async () =>
        {
            await agent.RegisterAsync(new AgentRegistration("watched", "test", "", ["watch"], 1, new Dictionary<string, string>()));
            await agent.SetStatusAsync(AgentStatus.Draining, "watch test");
            await agent.SetStatusAsync(AgentStatus.Available, "watch test");
            return !seen.IsEmpty && !all.IsEmpty;
        }, x => x, Wait, "the agent's events on both watches");
        await agent.SetStatusAsync(AgentStatus.Draining, "watch test again");

        await Eventually.ReturnsAsync(() => Task.FromResult(seen.Count(e => e.Status == AgentStatus.Draining)), n => n >= 2, Wait, "the draining events");
        await Eventually.ReturnsAsync(() => Task.FromResult(all.Count(e => e.Status == AgentStatus.Draining)), n => n >= 1, Wait, "a draining event among all agents");
        await stop.CancelAsync();
        await Task.WhenAll(watching, watchingAll);
        // Every change from the first seen on, in order, once.
        var sequences = seen.Select(e => e.Sequence).ToArray();
        Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Length).Select(n => (long)n), sequences);
    }

    private static async Task Collect<T>(IAsyncEnumerable<T> changes, Action<T> each)
    {
        await foreach (var change in changes)
        {
            each(change);
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWatchTests(SqliteClusterFixture fixture, ITestOutputHelper output) : WatchTests(fixture, output);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWatchTests(PostgresClusterFixture fixture, ITestOutputHelper output) : WatchTests(fixture, output);
