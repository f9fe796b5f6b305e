using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Tasks;

namespace NoOrg.Client.Tasks;

/// <summary>Creating tasks from a client: ids, and idempotency keys mapped onto them.</summary>
public static class TaskClientExtensions
{
    /// <summary>
    /// The id a new task gets: derived from its idempotency key when it has one (so the same key always reaches
    /// the same task grain, which compares content), otherwise fresh.
    /// </summary>
    public static string NewTaskId(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrEmpty(spec.IdempotencyKey))
        {
            return "t-" + Guid.NewGuid().ToString("N");
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(spec.IdempotencyKey));
        return "t-k" + Convert.ToHexStringLower(hash)[..31];
    }

    /// <summary>Creates a task in a <c>noorg.task.create</c> span: the trace the task's later work joins.</summary>
    public static async Task<TaskSnapshot> CreateTaskAsync(this IGrainFactory grains, TaskSpec spec, string actor)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var id = NewTaskId(spec);
        using var span = NoOrgTracing.Source.StartActivity(NoOrgTracing.TaskCreate, ActivityKind.Client);
        span.Recorded()?.SetTag(NoOrgTracing.TaskId, id).SetTag(NoOrgTracing.TaskType, spec.Type);
        try
        {
            return await grains.GetGrain<ITaskGrain>(id).CreateAsync(spec, actor);
        }
        catch (Exception e)
        {
            span.Failed(e);
            throw;
        }
    }
}
