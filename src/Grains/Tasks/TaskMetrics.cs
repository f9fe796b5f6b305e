using System.Diagnostics.Metrics;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// Task lifecycle counters and durations, recorded once per durable change (after the state write succeeded), on
/// the silo that hosts the task. Tags: <c>type</c> and <c>priority</c>; never a task id.
/// </summary>
internal static class TaskMetrics
{
    public const string MeterName = "NoOrg.Tasks";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Created = Meter.CreateCounter<long>("noorg.tasks.created", "{task}", "Tasks created");
    private static readonly Counter<long> Completed = Meter.CreateCounter<long>("noorg.tasks.completed", "{task}", "Tasks completed");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("noorg.tasks.failed", "{task}",
        "Tasks that failed for good (no attempts left, deadline exceeded, a dependency failed)");
    private static readonly Counter<long> Cancelled = Meter.CreateCounter<long>("noorg.tasks.cancelled", "{task}", "Tasks cancelled");
    private static readonly Counter<long> Retried = Meter.CreateCounter<long>("noorg.tasks.retries", "{attempt}",
        "Failed or timed-out attempts after which the task went back to pending for another attempt");
    private static readonly Counter<long> Assigned = Meter.CreateCounter<long>("noorg.tasks.assignments", "{assignment}", "Tasks assigned to an agent");
    private static readonly Counter<long> Reassigned = Meter.CreateCounter<long>("noorg.tasks.reassignments", "{assignment}",
        "Tasks moved from one agent to another");
    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>("noorg.tasks.wait.duration", "s",
        "Time from creation to the start of the first attempt");
    private static readonly Histogram<double> Run = Meter.CreateHistogram<double>("noorg.tasks.run.duration", "s",
        "Time an attempt ran, from its start to its end as the task saw it; tagged with how it ended");

    /// <summary>Records what a durable change did; cheap (a few adds), no I/O.</summary>
    public static void Changed(TaskSnapshot? before, TaskSnapshot after, TaskEvent change)
    {
        var type = new KeyValuePair<string, object?>("type", after.Spec.Type);
        var priority = new KeyValuePair<string, object?>("priority", MetricNames.Of(after.Spec.Priority));
        switch (change.Action)
        {
            case TaskAction.Created:
                Created.Add(1, type, priority);
                break;
            case TaskAction.Assigned:
                Assigned.Add(1, type, priority);
                break;
            case TaskAction.Reassigned:
                Reassigned.Add(1, type, priority);
                break;
            case TaskAction.Started when after.Attempt == 1:
                Wait.Record((change.At - after.CreatedAt).TotalSeconds, type, priority);
                break;
        }

        if (before is { State: TaskState.Running, StartedAt: { } started } && after.State != TaskState.Running)
        {
            // A failed attempt with attempts left is logged as RetryScheduled; the attempt itself failed.
            var ended = change.Action == TaskAction.RetryScheduled ? TaskAction.Failed : change.Action;
            Run.Record((change.At - started).TotalSeconds, type, priority, new KeyValuePair<string, object?>("outcome", MetricNames.Of(ended)));
        }

        if (before?.State == after.State)
        {
            return;
        }

        switch (after.State)
        {
            case TaskState.Completed:
                Completed.Add(1, type, priority);
                break;
            case TaskState.Failed:
                Failed.Add(1, type, priority);
                break;
            case TaskState.Cancelled:
                Cancelled.Add(1, type, priority);
                break;
            case TaskState.Pending when before?.State == TaskState.Running && change.Action is TaskAction.RetryScheduled or TaskAction.TimedOut:
                Retried.Add(1, type, priority);
                break;
        }
    }
}
