using System.Diagnostics;

namespace NoOrg.Grains.Observability;

/// <summary>
/// NoOrg's one <see cref="ActivitySource"/> ("NoOrg"), its span names and attribute keys (docs/observability.md,
/// "Tracing"). A span is started only while something listens and samples it in, so a process that does not trace
/// pays one check per span.
/// </summary>
public static class NoOrgTracing
{
    public const string SourceName = "NoOrg";

    public static ActivitySource Source { get; } = new(SourceName, "1.0.0");

    /// <summary>Orleans' sources (grain calls, activations, storage): <c>Microsoft.Orleans.*</c>.</summary>
    public const string OrleansSources = Orleans.Diagnostics.ActivitySources.AllActivitySourceName;

    public const string TaskCreate = "noorg.task.create";
    public const string DispatchPlace = "noorg.dispatch.place";
    public const string WorkerRun = "noorg.worker.run";
    public const string WorkerHandler = "noorg.worker.handler";
    public const string OutboxDeliver = "noorg.outbox.deliver";
    public const string SagaStepRun = "noorg.saga.step.run";

    /// <summary>Every span NoOrg makes (docs/observability.md lists them).</summary>
    public static IReadOnlyList<string> Spans { get; } = [TaskCreate, DispatchPlace, WorkerRun, WorkerHandler, OutboxDeliver, SagaStepRun];

    public const string TaskId = "noorg.task.id";
    public const string TaskType = "noorg.task.type";
    public const string TaskAttempt = "noorg.task.attempt";
    public const string AgentId = "noorg.agent.id";
    public const string Pool = "noorg.dispatch.pool";
    public const string SagaId = "noorg.saga.id";
    public const string SagaStepId = "noorg.saga.step";
    public const string SagaDefinition = "noorg.saga.definition";
    public const string SagaAction = "noorg.saga.action";
    public const string SagaAttempt = "noorg.saga.attempt";
    public const string MessageId = "noorg.outbox.message.id";
    public const string MessageType = "noorg.outbox.message.type";
    public const string TargetKind = "noorg.outbox.target.kind";
    public const string DeliveryAttempt = "noorg.outbox.attempt";
    public const string Outcome = "noorg.outcome";

    /// <summary>
    /// The W3C <c>traceparent</c> of the span running now, to be stored with work it causes later; null when nothing
    /// is traced. It rides a write that happens anyway (a task's creation, an outbox message's recording).
    /// </summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// Starts a span for work that <paramref name="traceParent"/> caused earlier, as its child, so it joins that
    /// trace whatever call happens to run it now. Without a stored parent the span starts a trace of its own (it
    /// never joins the unrelated call that runs it). Null when nobody listens or the trace is sampled out.
    /// </summary>
    public static Activity? StartCausedBy(string name, ActivityKind kind, string? traceParent)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        Activity.Current = null; // the parent is the stored cause, never the ambient call
        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;
        var activity = Source.StartActivity(name, kind, parent);
        if (activity is null)
        {
            Activity.Current = previous;
        }

        return activity;
    }

    /// <summary>The span if it records attributes, else null: a span sampled out (made only to carry its trace on) gets none.</summary>
    public static Activity? Recorded(this Activity? activity) => activity is { IsAllDataRequested: true } ? activity : null;

    /// <summary>Marks the span failed with the exception's type and message (OpenTelemetry's <c>exception</c> event).</summary>
    public static void Failed(this Activity? activity, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
