using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Health;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;
using NoOrg.Storage.Statistics;
using Orleans.Configuration;

namespace NoOrg.Grains.Observability;

/// <summary>
/// Cluster-wide gauges (tasks by state, agents by status and health, outbox messages waiting) read from the database's
/// maintained counters, at most once per <c>NOORG_METRICS_CLUSTER_REFRESH_SECONDS</c>, and what each kind of data holds
/// with its clean-up (the figures of <c>noorg db stats</c>, which scan tables), at most once per
/// <c>NOORG_METRICS_DATA_REFRESH_SECONDS</c>. One silo only reports them: the oldest active one in this silo's
/// membership view. Every other silo reports nothing, so summing a series over silos gives the cluster's value; for a
/// moment after the reporter leaves, views may disagree.
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
    private readonly IndexDatabase database;
    private readonly string serviceId;
    private readonly TimeProvider clock;
    private readonly ILogger<ClusterGauges> logger;
    private readonly Meter meter;
    private readonly Refreshed<ClusterCounts> counts;
    private readonly Refreshed<IReadOnlyList<DataKindStatistics>> data;

    public ClusterGauges(
        ITaskIndex tasks, IAgentIndex agents, IHealthIndex health, SqlOutboxStore outbox, IndexDatabase database,
        IClusterMembershipService membership, ILocalSiloDetails silo, IOptions<ClusterOptions> cluster, NoOrgSettings settings,
        TimeProvider clock, IMeterFactory meters, ILogger<ClusterGauges> logger)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(meters);
        (this.tasks, this.agents, this.health, this.outbox, this.database, this.membership, this.silo) =
            (tasks, agents, health, outbox, database, membership, silo);
        (serviceId, this.clock, this.logger) = (cluster.Value.ServiceId, clock, logger);
        counts = new Refreshed<ClusterCounts>(ReadCountsAsync, TimeSpan.FromSeconds(settings.Observability.MetricsClusterRefreshSeconds), this);
        data = new Refreshed<IReadOnlyList<DataKindStatistics>>(ReadDataAsync, TimeSpan.FromSeconds(settings.Observability.MetricsDataRefreshSeconds), this);
        meter = meters.Create(MeterName);
        meter.CreateObservableGauge("noorg.tasks.by_state", () => Observe(c => c.TasksByState), "{task}",
            "Tasks in each state, cluster-wide, from the maintained counters (noorg_task_group_counts); reported by one silo");
        meter.CreateObservableGauge("noorg.agents.by_status", () => Observe(c => c.AgentsByStatus), "{agent}",
            "Registered agents in each status, cluster-wide, from the agent index; reported by one silo");
        meter.CreateObservableGauge("noorg.agents.by_health", () => Observe(c => c.AgentsByHealth), "{agent}",
            "Monitored agents in each health status, cluster-wide, from the health index; reported by one silo");
        meter.CreateObservableGauge("noorg.outbox.messages", () => Observe(c => c.OutboxMessages), "{message}",
            "Outbox messages waiting (state pending) or dead-lettered (state dead) per owner grain type, cluster-wide; reported by one silo");
        meter.CreateObservableGauge("noorg.data.rows", () => ObserveData(k => k.Rows), "{row}",
            "Rows each kind of data holds (noorg db stats); reported by one silo");
        meter.CreateObservableGauge("noorg.data.bytes", () => ObserveData(k => k.Bytes), "By",
            "Bytes of row data each kind of data holds, without indexes (noorg db stats); reported by one silo");
        meter.CreateObservableGauge("noorg.data.oldest.age", () => ObserveData(k => Age(k.Oldest)), "s",
            "Age of each kind of data's oldest entry, for kinds that record one and hold any; reported by one silo");
        meter.CreateObservableCounter("noorg.retention.removed", () => ObserveData(k => k.RemovedTotal), "{row}",
            "Entries retention has removed of each kind, ever (noorg_retention_runs); reported by one silo");
        meter.CreateObservableGauge("noorg.retention.last_run.age", () => ObserveData(k => Age(k.LastCleanup)), "s",
            "Time since retention last cleaned each kind of data; reported by one silo");
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

    private IEnumerable<Measurement<long>> Observe(Func<ClusterCounts, IReadOnlyList<Measurement<long>>> select) =>
        IsReporter && counts.Latest() is { } current ? select(current) : [];

    /// <summary>One series per kind of data, for the kinds that have the figure.</summary>
    private IEnumerable<Measurement<long>> ObserveData(Func<DataKindStatistics, long?> select) =>
        IsReporter && data.Latest() is { } kinds
            ? [.. kinds.Where(k => select(k) is not null).Select(k => Gauge(select(k)!.Value, "kind", k.Kind))]
            : [];

    private long? Age(DateTimeOffset? at) => at is { } time ? Math.Max(0, (long)(clock.GetUtcNow() - time).TotalSeconds) : null;

    private async Task<IReadOnlyList<DataKindStatistics>> ReadDataAsync()
    {
        await using var connection = await database.OpenAsync();
        return await DataStatistics.ReadAsync(connection, database.Dialect);
    }

    private async Task<ClusterCounts> ReadCountsAsync()
    {
        var byState = await tasks.CountByStateAsync();
        var agentCounts = await agents.CountAsync();
        var byHealth = await health.CountAsync();
        var waiting = await outbox.SummaryAsync(serviceId);
        return new ClusterCounts(
            [.. byState.Select(p => Gauge(p.Value, "state", MetricNames.Of(p.Key)))],
            [.. agentCounts.ByStatus.Select(p => Gauge(p.Value, "status", MetricNames.Of(p.Key)))],
            [.. byHealth.Select(p => Gauge(p.Value, "health", MetricNames.Of(p.Key)))],
            [.. waiting.SelectMany(s => new[]
            {
                new Measurement<long>(s.PendingMessages, new KeyValuePair<string, object?>("owner", s.StateName), new KeyValuePair<string, object?>("state", "pending")),
                new Measurement<long>(s.DeadLetters, new KeyValuePair<string, object?>("owner", s.StateName), new KeyValuePair<string, object?>("state", "dead")),
            })]);
    }

    private static Measurement<long> Gauge(long value, string tag, string tagValue) => new(value, new KeyValuePair<string, object?>(tag, tagValue));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster-wide gauges could not read the database; they keep their last values")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);

    /// <summary>
    /// The last figures read and when; a collection that finds them older than the period starts a new read and gets
    /// the last ones meanwhile, as collection must not wait on the database.
    /// </summary>
    private sealed class Refreshed<T>(Func<Task<T>> read, TimeSpan period, ClusterGauges owner)
        where T : class
    {
        private readonly Lock gate = new();
        private (T Value, DateTimeOffset At)? latest;
        private Task? reading;

        public T? Latest()
        {
            lock (gate)
            {
                if ((latest is null || owner.clock.GetUtcNow() - latest.Value.At >= period) && reading is not { IsCompleted: false })
                {
                    reading = Task.Run(ReadAsync);
                }

                return latest?.Value;
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                var value = await read();
                lock (gate)
                {
                    latest = (value, owner.clock.GetUtcNow());
                }
            }
            catch (Exception e)
            {
                LogRefreshFailed(owner.logger, e);
            }
        }
    }

    private sealed record ClusterCounts(
        IReadOnlyList<Measurement<long>> TasksByState,
        IReadOnlyList<Measurement<long>> AgentsByStatus,
        IReadOnlyList<Measurement<long>> AgentsByHealth,
        IReadOnlyList<Measurement<long>> OutboxMessages);
}
