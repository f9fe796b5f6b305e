using System.Diagnostics.Metrics;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// Saga outcomes and compensations, recorded once per durable change on the silo hosting the saga. Tags:
/// <c>definition</c> (a definition's name, or <c>scope:</c> and a compensation scope's name) and <c>outcome</c>.
/// </summary>
internal static class SagaMetrics
{
    public const string MeterName = "NoOrg.Sagas";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Started = Meter.CreateCounter<long>("noorg.sagas.started", "{saga}", "Sagas started and compensation scopes opened");
    private static readonly Counter<long> Finished = Meter.CreateCounter<long>("noorg.sagas.finished", "{saga}",
        "Sagas that reached an outcome: completed, compensated, cancelled or compensation_failed (a retried compensation_failed saga counts again when it ends)");
    private static readonly Counter<long> Compensations = Meter.CreateCounter<long>("noorg.sagas.compensations", "{step}",
        "Compensation steps that ended: outcome compensated, or failed (no attempts left)");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("noorg.sagas.duration", "s",
        "Time from a saga's start to its outcome");

    public static void Saved(SagaGrainState before, SagaGrainState after, IReadOnlyList<SagaLogEntry> entries)
    {
        var definition = new KeyValuePair<string, object?>("definition", after.Definition);
        for (var i = 0; i < entries.Count; i++)
        {
            switch (entries[i].Action)
            {
                case SagaLogAction.SagaStarted:
                    Started.Add(1, definition);
                    break;
                case SagaLogAction.Compensated:
                    Compensations.Add(1, definition, new KeyValuePair<string, object?>("outcome", "compensated"));
                    break;
                case SagaLogAction.CompensationFailed:
                    Compensations.Add(1, definition, new KeyValuePair<string, object?>("outcome", "failed"));
                    break;
            }
        }

        if (before.Status != after.Status && after.Status is SagaStatus.Completed or SagaStatus.Compensated or SagaStatus.Cancelled or SagaStatus.CompensationFailed)
        {
            var outcome = new KeyValuePair<string, object?>("outcome", MetricNames.Of(after.Status));
            Finished.Add(1, definition, outcome);
            Duration.Record(((after.FinishedAt ?? after.UpdatedAt) - after.CreatedAt).TotalSeconds, definition, outcome);
        }
    }
}
