using System.Security.Cryptography;
using System.Text;
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

    public static Task<TaskSnapshot> CreateTaskAsync(this IGrainFactory grains, TaskSpec spec, string actor)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<ITaskGrain>(NewTaskId(spec)).CreateAsync(spec, actor);
    }
}
