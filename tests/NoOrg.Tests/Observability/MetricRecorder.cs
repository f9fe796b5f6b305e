using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace NoOrg.Tests.Observability;

/// <summary>Listens to the instruments of NoOrg's meters in this process and sums what they record, by tags.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<Recorded> recorded = new();

    public MetricRecorder(Func<Instrument, bool>? select = null)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name.StartsWith("NoOrg.", StringComparison.Ordinal) && (select is null || select(instrument)))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        listener.Start();
    }

    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags, object? Scope);

    /// <summary>The sum of the values recorded by <paramref name="instrument"/> with every one of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Sum(r => r.Value);

    /// <summary>How many measurements <paramref name="instrument"/> recorded with <paramref name="tags"/> (a histogram's count).</summary>
    public int Count(string instrument, params (string Key, string Value)[] tags) => Matching(instrument, tags).Count();

    /// <summary>Collects the observable instruments now, and returns only what they reported.</summary>
    public IReadOnlyList<Recorded> Observe(string instrument)
    {
        lock (listener)
        {
            var before = recorded.Count;
            listener.RecordObservableInstruments();
            return [.. recorded.Skip(before).Where(r => r.Instrument == instrument)];
        }
    }

    public void Dispose() => listener.Dispose();

    private IEnumerable<Recorded> Matching(string instrument, (string Key, string Value)[] tags) =>
        recorded.Where(r => r.Instrument == instrument && tags.All(t => r.Tags.GetValueOrDefault(t.Key) == t.Value));

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value?.ToString();
        }

        recorded.Enqueue(new Recorded(instrument.Name, value, copy, instrument.Meter.Scope));
    }
}
