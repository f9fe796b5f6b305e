using System.Collections.Concurrent;
using System.Diagnostics;
using NoOrg.Client.Tasks;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Orleans.Streams;
using Xunit.Abstractions;

namespace NoOrg.Tests.Dispatch;

/// <summary>Clients follow a task, all tasks, or an agent as a stream of events.</summary>
public abstract class WatchTests(ClusterFixture fixture, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_client_following_a_task_and_all_tasks_sees_each_change()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var spec = new TaskSpec("watched", "echo", RequiredCapabilities: ["nobody-" + Guid.NewGuid().ToString("N")]);
        var id = TaskClientExtensions.NewTaskId(spec);
        var provider = fixture.Client.GetStreamProvider(NoOrgStreams.Provider);
        var one = new ConcurrentQueue<(TaskEvent Event, long Ticks)>();
        var all = new ConcurrentQueue<TaskEvent>();
        var s1 = await provider.GetStream<TaskEvent>(NoOrgStreams.TaskStream(id)).SubscribeAsync((e, _) =>
        {
            one.Enqueue((e, Stopwatch.GetTimestamp()));
            return Task.CompletedTask;
        });
        var s2 = await provider.GetStream<TaskEvent>(NoOrgStreams.AllTasksStream).SubscribeAsync((e, _) =>
        {
            if (e.TaskId == id)
            {
                all.Enqueue(e);
            }

            return Task.CompletedTask;
        });
        try
        {
            await fixture.Client.GetGrain<ITaskGrain>(id).CreateAsync(spec, "test");
            var before = Stopwatch.GetTimestamp();
            await fixture.Client.GetGrain<ITaskGrain>(id).CancelAsync("watch test", "test");
            var acknowledged = Stopwatch.GetTimestamp();

            await Eventually.ReturnsAsync(() => Task.FromResult(one.Any(e => e.Event.Action == TaskAction.Cancelled)), x => x, TimeSpan.FromSeconds(10), "the cancel event");
            await Eventually.ReturnsAsync(() => Task.FromResult(all.Any(e => e.Action == TaskAction.Cancelled)), x => x, TimeSpan.FromSeconds(10), "the cancel event on the all-tasks stream");
            Assert.Contains(one, e => e.Event.Action == TaskAction.Created);
            var cancelled = one.First(e => e.Event.Action == TaskAction.Cancelled);
            Assert.Equal("watch test", cancelled.Event.Reason);
            output.WriteLine($"cancel call {Stopwatch.GetElapsedTime(before, acknowledged).TotalMilliseconds:F1} ms; event seen " +
                $"{Stopwatch.GetElapsedTime(before, cancelled.Ticks).TotalMilliseconds:F1} ms after the call began");
        }
        finally
        {
            await s1.UnsubscribeAsync();
            await s2.UnsubscribeAsync();
        }
    }

    [SkippableFact]
    public async Task A_client_following_an_agent_sees_its_status_change()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var agentId = "watched-" + Guid.NewGuid().ToString("N")[..8];
        var seen = new ConcurrentQueue<AgentEvent>();
        var subscription = await fixture.Client.GetStreamProvider(NoOrgStreams.Provider).GetStream<AgentEvent>(NoOrgStreams.AgentStream(agentId))
            .SubscribeAsync((e, _) =>
            {
                seen.Enqueue(e);
                return Task.CompletedTask;
            });
        try
        {
            var agent = fixture.Client.GetGrain<IAgentGrain>(agentId);
            await agent.RegisterAsync(new AgentRegistration("watched", "test", "", ["watch"], 1, new Dictionary<string, string>()));
            await agent.SetStatusAsync(AgentStatus.Draining, "watch test");

            await Eventually.ReturnsAsync(() => Task.FromResult(seen.Any(e => e.Status == AgentStatus.Draining)), x => x, TimeSpan.FromSeconds(10), "the draining event");
            Assert.Contains(seen, e => e.Kind == AgentEventKind.Registered);
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteWatchTests(SqliteClusterFixture fixture, ITestOutputHelper output) : WatchTests(fixture, output);

[Collection(PostgresCluster.Name)]
public sealed class PostgresWatchTests(PostgresClusterFixture fixture, ITestOutputHelper output) : WatchTests(fixture, output);
