using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Agents;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace NoOrg.Tests.Health;

/// <summary>Monitoring driven by the monitor's own timer and reminder, on clusters of their own with short periods.</summary>
public abstract class AgentHealthMonitoringTests(ClusterFixture fixture)
{
    internal const int HeartbeatTimeoutSeconds = 2;
    internal const int CheckIntervalSeconds = 1;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    internal static readonly Dictionary<string, string> ShortPeriods = new()
    {
        ["NOORG_AGENTS_HEARTBEAT_TIMEOUT_SECONDS"] = $"{HeartbeatTimeoutSeconds}",
        ["NOORG_AGENT_HEALTH_CHECK_INTERVAL_SECONDS"] = $"{CheckIntervalSeconds}",
        ["NOORG_AGENT_HEALTH_GRACE_PERIOD_SECONDS"] = "1",
    };

    [SkippableFact]
    public async Task Silent_agent_turns_unhealthy_its_running_task_goes_to_a_healthy_agent_and_it_recovers_on_heartbeats()
    {
        await OwnCluster.RunAsync(fixture.Provider, ShortPeriods, async cluster =>
        {
            var client = cluster.Client;
            var capability = TestAgents.NewCapability("silent");
            var onlySilent = TestAgents.NewCapability("only-silent");
            var silentId = $"silent-{Guid.NewGuid():N}";
            var silent = client.GetGrain<IAgentGrain>(silentId);
            await silent.RegisterAsync(TestAgents.Registration([capability, onlySilent]));
            var task = await TestAgents.CreateTaskAsync(client, capability);
            await TestAgents.AssignAsync(task, silentId);
            await task.StartAsync(silentId);
            var lastSeen = (await silent.GetLivenessAsync()).LastSeenAt;

            // A healthy agent, alive for the rest of the test.
            var healthyId = $"healthy-{Guid.NewGuid():N}";
            var healthy = client.GetGrain<IAgentGrain>(healthyId);
            await healthy.RegisterAsync(TestAgents.Registration([capability]));
            using var stop = new CancellationTokenSource();
            var beating = BeatAsync(healthy, stop.Token);
            try
            {
                var monitor = client.GetGrain<IAgentHealthGrain>(silentId);
                var unhealthy = await Eventually.ReturnsAsync(monitor.GetAsync, h => h.Status == HealthStatus.Unhealthy, Patience, "the silent agent to turn unhealthy");
                Assert.Contains(unhealthy.Reasons, r => r.StartsWith("heartbeat: no heartbeat for ", StringComparison.Ordinal));

                // Judged by the monitor's own clock: within the heartbeat timeout plus one check interval (and a
                // second for the rounding of the timer ticks).
                var turned = unhealthy.History.Last(c => c.To == HealthStatus.Unhealthy).At;
                Assert.InRange((turned - lastSeen).TotalSeconds, HeartbeatTimeoutSeconds, HeartbeatTimeoutSeconds + CheckIntervalSeconds + 1);

                var moved = await Eventually.ReturnsAsync(task.GetAsync, t => t!.AssignedTo == healthyId, Patience, "the task to be reassigned to the healthy agent");
                Assert.Equal(1, moved!.Attempt); // the lost attempt was spent under the retry policy
                var lost = (await task.GetHistoryAsync(0, 100)).Items.Single(e => e.Action == TaskAction.AgentLost);
                Assert.Contains($"agent {silentId} lost: agent unhealthy: heartbeat: no heartbeat for ", lost.Reason, StringComparison.Ordinal);
                var offline = await silent.GetAsync();
                Assert.Equal((AgentStatus.Offline, HealthStatus.Unhealthy), (offline!.Status, offline.Health));

                // Heartbeats resume: healthy enough to take work again (uptime may keep it degraded for the window).
                var resumed = BeatAsync(silent, stop.Token);
                var recovered = await Eventually.ReturnsAsync(monitor.GetAsync, h => h.Status != HealthStatus.Unhealthy, Patience, "the agent to recover");
                Assert.DoesNotContain(recovered.Checks, c => c.Check == "heartbeat" && !c.Passed);
                var again = await TestAgents.CreateTaskAsync(client, onlySilent);
                await Eventually.ReturnsAsync(again.GetAsync, t => t!.AssignedTo == silentId, Patience, "the recovered agent to take a task");
                await stop.CancelAsync();
                await resumed;
            }
            finally
            {
                await stop.CancelAsync();
                await beating;
            }
        });
    }

    [SkippableFact]
    public async Task An_offline_agent_and_its_monitor_go_quiet_and_a_heartbeat_wakes_both()
    {
        await OwnCluster.RunAsync(fixture.Provider, ShortPeriods, async cluster =>
        {
            var client = cluster.Client;
            var id = $"quiet-{Guid.NewGuid():N}";
            var agent = client.GetGrain<IAgentGrain>(id);
            var monitor = client.GetGrain<IAgentHealthGrain>(id);
            var reminders = ((InProcessSiloHandle)cluster.Silos[0]).SiloHost.Services.GetRequiredService<IReminderTable>();
            async Task<string[]> RemindersAsync() =>
            [
                .. (await reminders.ReadRows(agent.GetGrainId())).Reminders.Select(r => r.ReminderName),
                .. (await reminders.ReadRows(monitor.GetGrainId())).Reminders.Select(r => r.ReminderName),
            ];

            await agent.RegisterAsync(TestAgents.Registration([TestAgents.NewCapability("quiet")]));
            // Stored right after the registration's answer, off its path.
            Assert.Equal(["liveness", "health"], await Eventually.ReturnsAsync(RemindersAsync, r => r.Length == 2, Patience, "both reminders"));

            // Silent: unhealthy, then offline, then nothing left to watch.
            var quiet = await Eventually.ReturnsAsync(monitor.GetAsync, h => h.QuietSince is not null, Patience, "the monitor of the offline agent to go quiet");
            Assert.Equal(HealthStatus.Unhealthy, quiet.Status);
            Assert.Equal(AgentStatus.Offline, (await agent.GetAsync())!.Status);
            await Eventually.ReturnsAsync(RemindersAsync, r => r.Length == 0, Patience, "both reminders to be dropped");
            var checkedAt = quiet.CheckedAt;
            await Task.Delay(TimeSpan.FromSeconds(3 * CheckIntervalSeconds));
            Assert.Equal(checkedAt, (await monitor.GetAsync()).CheckedAt); // no rounds while quiet

            // Back: both reminders return, the monitor judges again, and the quiet time counts as down.
            using var stop = new CancellationTokenSource();
            var beating = BeatAsync(agent, stop.Token);
            try
            {
                var awake = await Eventually.ReturnsAsync(monitor.GetAsync, h => h.QuietSince is null && h.CheckedAt > checkedAt, Patience, "the monitor to wake");
                Assert.True(awake.Metrics.Uptime < 0.9, $"uptime {awake.Metrics.Uptime:F3} should count the quiet time as down");
                // Stored right after the registration's answer, off its path.
            Assert.Equal(["liveness", "health"], await Eventually.ReturnsAsync(RemindersAsync, r => r.Length == 2, Patience, "both reminders"));
                await Eventually.ReturnsAsync(monitor.GetAsync, h => h.Checks.Any(c => c.Check == "heartbeat" && c.Passed), Patience, "the heartbeat check to pass");
            }
            finally
            {
                await stop.CancelAsync();
                await beating;
            }

            // Unregistering a quiet agent still stops its monitor.
            await Eventually.ReturnsAsync(monitor.GetAsync, h => h.QuietSince is not null, Patience, "the monitor to go quiet again");
            await agent.UnregisterAsync("test over");
            await Eventually.ReturnsAsync(async () =>
            {
                try
                {
                    await monitor.GetAsync();
                    return false;
                }
                catch (NoOrg.Grains.Errors.NotFoundException)
                {
                    return true;
                }
            }, x => x, Patience, "the monitor of the unregistered agent to stop");
            await Eventually.ReturnsAsync(RemindersAsync, r => r.Length == 0, Patience, "both reminders to be dropped after unregistering");
        });
    }

    [SkippableFact]
    public async Task Running_tasks_stay_with_an_unhealthy_agent_for_the_grace_period()
    {
        var settings = new Dictionary<string, string>(ShortPeriods) { ["NOORG_AGENT_HEALTH_GRACE_PERIOD_SECONDS"] = "4" };
        await OwnCluster.RunAsync(fixture.Provider, settings, async cluster =>
        {
            var capability = TestAgents.NewCapability("grace");
            var id = $"graced-{Guid.NewGuid():N}";
            var agent = cluster.Client.GetGrain<IAgentGrain>(id);
            await agent.RegisterAsync(new AgentRegistration("graced", "test-agent", "", [capability], 2,
                new Dictionary<string, string> { [FlagHealthCheck.MetadataKey] = "fail" }));
            var task = await TestAgents.CreateTaskAsync(cluster.Client, capability);
            await TestAgents.AssignAsync(task, id);
            await task.StartAsync(id);
            using var stop = new CancellationTokenSource();
            var beating = BeatAsync(agent, stop.Token);
            try
            {
                var monitor = cluster.Client.GetGrain<IAgentHealthGrain>(id);
                var unhealthy = await Eventually.ReturnsAsync(monitor.GetAsync, h => h.Status == HealthStatus.Unhealthy, Patience, "the agent to turn unhealthy");
                var since = unhealthy.UnhealthySince!.Value;
                var running = await task.GetAsync();
                Assert.Equal((TaskState.Running, id), (running!.State, running.AssignedTo));

                var handedBack = await Eventually.ReturnsAsync(task.GetAsync, t => t!.AssignedTo != id, Patience, "the task to be handed back");
                var lost = (await task.GetHistoryAsync(0, 100)).Items.Single(e => e.Action == TaskAction.AgentLost);
                Assert.True(lost.At - since >= TimeSpan.FromSeconds(4), $"handed back {(lost.At - since).TotalSeconds:F1}s after turning unhealthy");
                // Handed back for being unhealthy, because of the flag (a loaded machine may add a late heartbeat to the verdict).
                Assert.Contains("agent unhealthy: ", lost.Reason, StringComparison.Ordinal);
                Assert.Contains($"{FlagHealthCheck.CheckName}: the test flag says this agent is broken", lost.Reason, StringComparison.Ordinal);
                Assert.Equal(AgentStatus.Available, (await agent.GetAsync())!.Status); // it still heartbeats: not offline
                Assert.Null(handedBack!.AssignedTo);
            }
            finally
            {
                await stop.CancelAsync();
                await beating;
            }
        });
    }

    internal static async Task BeatAsync(IAgentGrain agent, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await agent.HeartbeatAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentHealthMonitoringTests(SqliteClusterFixture fixture) : AgentHealthMonitoringTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentHealthMonitoringTests(PostgresClusterFixture fixture) : AgentHealthMonitoringTests(fixture);

/// <summary>The monitors of a killed silo's agents resume on the survivor by their reminders, with no one calling in.</summary>
[Collection(PostgresCluster.Name)]
public sealed class HealthFailoverTests
{
    [SkippableFact]
    public async Task Monitoring_continues_after_the_silo_hosting_the_monitor_is_killed()
    {
        await OwnCluster.RunAsync(StorageProvider.Postgres, AgentHealthMonitoringTests.ShortPeriods, async cluster =>
        {
            var client = cluster.Client;
            var secondary = cluster.SecondarySilos[0];
            var management = client.GetGrain<IManagementGrain>(0);

            // Live agents until one's monitor lives on the secondary silo (placement is random). They heartbeat
            // until the kill: a silent agent would go offline and its monitor quiet before the kill.
            var ids = new List<string>();
            string? victim = null;
            using var stop = new CancellationTokenSource();
            var beats = new List<Task>();
            async Task<string?> MonitoredOnSecondaryAsync()
            {
                var stats = await management.GetDetailedGrainStatistics();
                return ids.FirstOrDefault(x => stats.Any(s => s.SiloAddress.Equals(secondary.SiloAddress)
                    && s.GrainId.Key.ToString() == x && s.GrainType.Contains(nameof(AgentHealthGrain), StringComparison.Ordinal)));
            }

            // On a loaded machine the secondary may join after the test starts: until it is active, every monitor lands
            // on the primary. So wait for the cluster to settle, and keep adding agents for up to a minute.
            await cluster.WaitForLivenessToStabilizeAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (victim is null && DateTime.UtcNow < deadline)
            {
                var id = $"failover-{Guid.NewGuid():N}";
                var agent = client.GetGrain<IAgentGrain>(id);
                await agent.RegisterAsync(TestAgents.Registration([TestAgents.NewCapability("failover")]));
                beats.Add(AgentHealthMonitoringTests.BeatAsync(agent, stop.Token));
                ids.Add(id);
                victim = await MonitoredOnSecondaryAsync();
            }

            // Monitors start right after each registration, off its path: the last ones may still be on their way.
            for (var wait = 0; wait < 20 && victim is null; wait++)
            {
                await Task.Delay(500);
                victim = await MonitoredOnSecondaryAsync();
            }

            await stop.CancelAsync();
            await Task.WhenAll(beats);
            Assert.NotNull(victim);
            await cluster.KillSiloAsync(secondary);
            var killedAt = DateTimeOffset.UtcNow;

            // Nobody calls the monitor or the agent (the report reads the health table the monitors project into):
            // the agent stays silent, and its monitor, brought back by its reminder on the survivor, finds that out.
            var reports = client.GetGrain<IHealthReportGrain>(0);
            var report = await Eventually.ReturnsAsync(reports.ReportAsync, r => r.Unhealthy.Any(a => a.AgentId == victim && a.CheckedAt > killedAt),
                TimeSpan.FromSeconds(90), "the monitor to resume on the survivor and judge the silent agent");
            var row = report.Unhealthy.Single(a => a.AgentId == victim);
            Assert.Contains(row.Reasons, r => r.StartsWith("heartbeat: no heartbeat for ", StringComparison.Ordinal));
            var after = await management.GetDetailedGrainStatistics();
            Assert.Contains(after, s => s.GrainId.Key.ToString() == victim && s.GrainType.Contains(nameof(AgentHealthGrain), StringComparison.Ordinal));
        });
    }
}
