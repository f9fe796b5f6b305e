using System.Diagnostics.Metrics;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Outbox deliveries as the relays of the hosting grains make them. Tag: <c>target_kind</c> (grain or webhook).
/// Messages waiting and dead letters, cluster-wide, are <c>noorg.outbox.messages</c> (see ClusterGauges).
/// </summary>
internal static class OutboxMetrics
{
    public const string MeterName = "NoOrg.Outbox";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("noorg.outbox.delivered", "{message}",
        "Outbox messages delivered to a target (a redelivery after a crash counts again)");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("noorg.outbox.delivery.failures", "{attempt}",
        "Delivery attempts that failed and were scheduled again");
    private static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>("noorg.outbox.dead_lettered", "{message}",
        "Outbox messages dead-lettered after NOORG_OUTBOX_MAX_ATTEMPTS failed attempts");
    private static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("noorg.outbox.delivery.latency", "s",
        "Time from a message's recording to its successful delivery, retries included");

    public static void Delivery(OutboxEntry entry, DateTimeOffset now)
    {
        var kind = new KeyValuePair<string, object?>("target_kind", MetricNames.Of(entry.Target.Kind));
        Delivered.Add(1, kind);
        Latency.Record(Math.Max(0, (now - entry.Message.CreatedAt).TotalSeconds), kind);
    }

    public static void Failure(OutboxEntry entry, bool dead) =>
        (dead ? DeadLettered : Retried).Add(1, new KeyValuePair<string, object?>("target_kind", MetricNames.Of(entry.Target.Kind)));
}
