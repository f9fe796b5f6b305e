using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;
using Orleans.Configuration;

namespace NoOrg.Grains.Observability;

/// <summary>
/// Cluster-wide gauges (tasks by state, agents by status and health, outbox messages waiting) read from the database's
/// maintained counters, at most once per <c>NOORG_METRICS_CLUSTER_REFRESH_SECONDS</c>, and reported by one silo only:
/// the oldest active one in this silo's membership view. Every other silo reports nothing, so summing a series over
/// silos gives the cluster's value; for a moment after the reporter leaves, views may disagree.
/// </summary>
internal sealed partial class ClusterGauges : IHostedService, IDisposable
{
    public const string MeterName = "NoOrg.Cluster";

    private readonly ITaskIndex tasks;
    private readonly IAgentIndex agents;
    private readonly IHealthIndex health;
    private readonly SqlOutboxStore outbox;
    private readonly IClusterMembershipService membership;
    private readonly ILocalSiloDetails silo;
    private readonly string serviceId;
    private readonly TimeSpan refreshEvery;
    private readonly TimeProvider clock;
    private readonly ILogger<ClusterGauges> logger;
    private readonly Meter meter;
    private readonly Lock gate = new();
    private ClusterCounts? counts;
    private Task? refreshing;

    public ClusterGauges(
        ITaskIndex tasks, IAgentIndex agents, IHealthIndex health, SqlOutboxStore outbox, IClusterMembershipService membership,
        ILocalSiloDetails silo, IOptions<ClusterOptions> cluster, NoOrgSettings settings, TimeProvider clock, IMeterFactory meters,
        ILogger<ClusterGauges> logger)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(meters);
        (this.tasks, this.agents, this.health, this.outbox, this.membership, this.silo) = (tasks, agents, health, outbox, membership, silo);
        (serviceId, refreshEvery, this.clock, this.logger) =
            (cluster.Value.ServiceId, TimeSpan.FromSeconds(settings.Observability.MetricsClusterRefreshSeconds), clock, logger);
        meter = meters.Create(MeterName);
        meter.CreateObservableGauge("noorg.tasks.by_state", () => Observe(c => c.TasksByState), "{task}",
            "Tasks in each state, cluster-wide, from the maintained counters (noorg_task_counts); reported by one silo");
        meter.CreateObservableGauge("noorg.agents.by_status", () => Observe(c => c.AgentsByStatus), "{agent}",
            "Registered agents in each status, cluster-wide, from the agent index; reported by one silo");
        meter.CreateObservableGauge("noorg.agents.by_health", () => Observe(c => c.AgentsByHealth), "{agent}",
            "Monitored agents in each health status, cluster-wide, from the health index; reported by one silo");
        meter.CreateObservableGauge("noorg.outbox.messages", () => Observe(c => c.OutboxMessages), "{message}",
            "Outbox messages waiting (state pending) or dead-lettered (state dead) per owner grain type, cluster-wide; reported by one silo");
    }

    /// <summary>Whether this silo is the one that reports the cluster-wide gauges now: the oldest active silo it knows of.</summary>
    public bool IsReporter
    {
        get
        {
            var oldest = membership.CurrentSnapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active)
                .Select(m => m.SiloAddress)
                .OrderBy(a => a.Generation)
                .ThenBy(a => a.ToParsableString(), StringComparer.Ordinal)
                .FirstOrDefault();
            return oldest is not null && oldest.Equals(silo.SiloAddress);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => meter.Dispose();

    private IEnumerable<Measurement<long>> Observe(Func<ClusterCounts, IReadOnlyList<Measurement<long>>> select)
    {
        if (!IsReporter)
        {
            return [];
        }

        ClusterCounts? current;
        lock (gate)
        {
            current = counts;
            if ((current is null || clock.GetUtcNow() - current.ReadAt >= refreshEvery) && refreshing is not { IsCompleted: false })
            {
                // Collection must not wait on the database: this scrape gets the last values, the next one the new.
                refreshing = Task.Run(RefreshAsync);
            }
        }

        return current is null ? [] : select(current);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var byState = await tasks.CountByStateAsync();
            var agentCounts = await agents.CountAsync();
            var byHealth = await health.CountAsync();
            var waiting = await outbox.SummaryAsync(serviceId);
            var read = new ClusterCounts(
                clock.GetUtcNow(),
                [.. byState.Select(p => Gauge(p.Value, "state", MetricNames.Of(p.Key)))],
                [.. agentCounts.ByStatus.Select(p => Gauge(p.Value, "status", MetricNames.Of(p.Key)))],
                [.. byHealth.Select(p => Gauge(p.Value, "health", MetricNames.Of(p.Key)))],
                [.. waiting.SelectMany(s => new[]
                {
                    new Measurement<long>(s.PendingMessages, new KeyValuePair<string, object?>("owner", s.StateName), new KeyValuePair<string, object?>("state", "pending")),
                    new Measurement<long>(s.DeadLetters, new KeyValuePair<string, object?>("owner", s.StateName), new KeyValuePair<string, object?>("state", "dead")),
                })]);
            lock (gate)
            {
                counts = read;
            }
        }
        catch (Exception e)
        {
            LogRefreshFailed(logger, e);
        }
    }

    private static Measurement<long> Gauge(long value, string tag, string tagValue) => new(value, new KeyValuePair<string, object?>(tag, tagValue));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster-wide gauges could not read the database counters; they keep their last values")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    private sealed record ClusterCounts(
        DateTimeOffset ReadAt,
        IReadOnlyList<Measurement<long>> TasksByState,
        IReadOnlyList<Measurement<long>> AgentsByStatus,
        IReadOnlyList<Measurement<long>> AgentsByHealth,
        IReadOnlyList<Measurement<long>> OutboxMessages);
}
