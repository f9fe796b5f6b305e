using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace NoOrg.Client.Workers;

/// <summary>
/// Whether the worker can work: unhealthy while a slot has failed to start or report its task for
/// <see cref="AgentWorkerOptions.StalledAfter"/>, while its connection has failed that long, or while another process
/// serves its agent id; degraded while some call is failing but not yet for that long.
/// </summary>
public sealed class AgentWorkerHealthCheck(AgentWorkerService worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(DateTimeOffset.UtcNow));

    internal HealthCheckResult Check(DateTimeOffset now)
    {
        var limit = worker.Settings.StalledAfter;
        var connection = worker.Connection;
        var problems = new List<string>();
        if (connection.RefusedBecause is { } refused)
        {
            problems.Add(refused);
        }
        else if (connection.FailingSince is { } since && now - since >= limit)
        {
            problems.Add($"cannot connect to the cluster for {Seconds(now - since)}: {connection.LastError}");
        }

        foreach (var slot in worker.StalledSlots(now))
        {
            problems.Add($"slot {slot.Slot} has failed to {slot.FailingCall} task {slot.TaskId} for {Seconds(now - slot.FailingSince!.Value)}: {slot.LastError}");
        }

        if (problems.Count > 0)
        {
            return HealthCheckResult.Unhealthy(string.Join("; ", problems));
        }

        var failing = worker.Slots.Where(s => s.FailingSince is not null).Select(s => $"slot {s.Slot} retrying {s.FailingCall} of task {s.TaskId}: {s.LastError}")
            .Concat(connection.FailingSince is not null ? [$"retrying to connect: {connection.LastError}"] : [])
            .ToList();
        if (failing.Count > 0)
        {
            return HealthCheckResult.Degraded(string.Join("; ", failing));
        }

        var busy = worker.Slots.Count(s => s.TaskId is not null);
        return connection.Connected
            ? HealthCheckResult.Healthy($"connected; {busy} of {worker.Slots.Count} slots busy")
            : HealthCheckResult.Degraded("not connected yet");
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0}s";
}
