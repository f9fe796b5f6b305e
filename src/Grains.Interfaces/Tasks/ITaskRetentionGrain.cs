using NoOrg.Grains.Security;
namespace NoOrg.Grains.Tasks;

/// <summary>
/// Removes finished tasks once they are older than the retention period, on a reminder. One per cluster (key 0),
/// so two clean-ups never race each other.
/// </summary>
[Alias("noorg.tasks.retention")]
[Requires(AccessRole.Admin)]
public interface ITaskRetentionGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>
    /// Purges finished tasks older than <paramref name="olderThan"/> (default: the retention period) through their
    /// grains, at most 10 000 per call; returns how many were removed.
    /// </summary>
    [Alias("cleanup")] Task<int> CleanupAsync(TimeSpan? olderThan);

    /// <summary>Registers the clean-up reminder, or updates it when the interval changed. Safe to call on every silo start.</summary>
    [Alias("ensure-scheduled")] Task EnsureScheduledAsync();
}
