using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using NoOrg.Grains.Observability;

namespace NoOrg.Tests.Observability;

/// <summary>
/// Records every span of NoOrg, Orleans and HttpClient that ends in this process while it lives: the silos of an
/// in-process test cluster, its client and the workers all run here. By default the listener samples every span in,
/// as an OpenTelemetry SDK with an always-on sampler would; <see cref="ActivitySamplingResult.PropagationData"/> stands
/// for a sampler that leaves every trace out.
/// </summary>
public sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener listener;

    public SpanRecorder(ActivitySamplingResult sampling = ActivitySamplingResult.AllDataAndRecorded)
    {
        listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == NoOrgTracing.SourceName || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) || s.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => sampling,
            ActivityStopped = Ended.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
    }

    public ConcurrentQueue<Activity> Ended { get; } = new();

    public IReadOnlyList<Activity> Named(string name) => [.. Ended.Where(a => a.OperationName == name)];

    /// <summary>The ended spans that carry <paramref name="key"/> = <paramref name="value"/>.</summary>
    public IReadOnlyList<Activity> Tagged(string name, string key, string value) =>
        [.. Named(name).Where(a => a.GetTagItem(key) as string == value)];

    public IReadOnlyList<Activity> Trace(ActivityTraceId trace) => [.. Ended.Where(a => a.TraceId == trace)];

    /// <summary>An Orleans grain call as the called grain ran it (Server kind), found by its interface method.</summary>
    public IReadOnlyList<Activity> GrainCalls(ActivityTraceId trace, string method) =>
        [.. Trace(trace).Where(a => a.Kind == ActivityKind.Server && a.OperationName.EndsWith("/" + method, StringComparison.Ordinal))];

    /// <summary>One line per span (name, kind, span id, parent id, tags): what a failed assertion shows.</summary>
    public static string Describe(IEnumerable<Activity> spans) => string.Join("\n", spans.Select(a => string.Create(CultureInfo.InvariantCulture,
        $"{a.OperationName} [{a.Kind}] {a.SpanId} <- {a.ParentSpanId} {string.Join(", ", a.TagObjects.Select(t => $"{t.Key}={t.Value}"))}")));

    public void Dispose() => listener.Dispose();
}
