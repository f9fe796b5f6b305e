using HdrHistogram;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Latencies of one operation at one concurrency level, safe to record from many callers at once. Values are kept
/// in microseconds in an HDR histogram with three significant digits, from 1 µs to one hour.
/// </summary>
internal sealed class LatencyRecorder
{
    private static readonly long Highest = (long)TimeSpan.FromHours(1).TotalMicroseconds;

    private readonly LongConcurrentHistogram histogram = new(1, Highest, 3);

    public long Count => histogram.TotalCount;

    public void Record(TimeSpan latency)
    {
        var micros = (long)Math.Round(latency.TotalMicroseconds);
        histogram.RecordValue(Math.Clamp(micros, 1, Highest));
    }

    public LatencySummary Summarize()
    {
        if (histogram.TotalCount == 0)
        {
            return LatencySummary.Empty;
        }

        return new LatencySummary(
            histogram.TotalCount,
            Milliseconds(histogram.GetValueAtPercentile(50)),
            Milliseconds(histogram.GetValueAtPercentile(95)),
            Milliseconds(histogram.GetValueAtPercentile(99)),
            Milliseconds(histogram.GetMaxValue()),
            Math.Round(histogram.GetMean() / 1000.0, 3));
    }

    private static double Milliseconds(long micros) => Math.Round(micros / 1000.0, 3);
}

/// <summary>Milliseconds. Percentiles come from the histogram, so they are exact to three significant digits.</summary>
internal sealed record LatencySummary(long Count, double MedianMs, double P95Ms, double P99Ms, double MaxMs, double MeanMs)
{
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0);
}
