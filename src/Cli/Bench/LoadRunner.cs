using System.Diagnostics;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Runs one operation with a fixed number of concurrent callers: a warm-up whose samples are thrown away, then a
/// measured phase that ends after its duration or its count of operations, whichever comes first.
/// </summary>
internal static class LoadRunner
{
    public static async Task<LevelResult> RunAsync(
        BenchScenario scenario, int concurrency, BenchPlan plan, Action<long>? progress, CancellationToken cancellationToken)
    {
        await RunPhaseAsync(scenario, concurrency, plan.Warmup, 0, null, null, cancellationToken);
        var recorder = new LatencyRecorder();
        var phase = await RunPhaseAsync(scenario, concurrency, plan.Duration, plan.Count, recorder, progress, cancellationToken);
        var seconds = phase.Elapsed.TotalSeconds;
        return new LevelResult(
            concurrency, recorder.Count, phase.Errors, phase.FirstError, Math.Round(seconds, 3),
            seconds > 0 ? Math.Round(recorder.Count / seconds, 1) : 0, recorder.Summarize());
    }

    private static async Task<Phase> RunPhaseAsync(
        BenchScenario scenario, int concurrency, TimeSpan duration, long count, LatencyRecorder? recorder, Action<long>? progress,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long issued = 0;
        long errors = 0;
        string? firstError = null;

        bool More() =>
            !cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < stopAt && (count <= 0 || Interlocked.Increment(ref issued) <= count);

        async Task CallerAsync()
        {
            // Calls may complete synchronously: yield so that every caller really runs concurrently.
            await Task.Yield();
            while (More())
            {
                try
                {
                    var latency = await scenario.RunOnceAsync(cancellationToken);
                    recorder?.Record(latency);
                    if (recorder is not null)
                    {
                        progress?.Invoke(recorder.Count);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}", null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => CallerAsync()));
        cancellationToken.ThrowIfCancellationRequested();
        return new Phase(Stopwatch.GetElapsedTime(started), errors, firstError);
    }

    private sealed record Phase(TimeSpan Elapsed, long Errors, string? FirstError);
}

/// <summary>How long each level runs, and how the scale phase is sized.</summary>
internal sealed record BenchPlan(
    IReadOnlyList<int> Levels,
    TimeSpan Warmup,
    TimeSpan Duration,
    long Count,
    int Scale,
    int QuerySamples,
    IReadOnlyList<string> Operations,
    int ProfileSamples = 0,
    int Unplaceable = 0,
    bool Timeouts = false);
