using NoOrg.Grains.Security;
namespace NoOrg.Grains.Retention;

/// <summary>
/// Cleans up what NoOrg keeps beyond its retention (docs/retention.md) on a reminder, in bounded batches. One per
/// cluster (key 0), so two clean-ups never race each other.
/// </summary>
[Alias("noorg.retention")]
[Requires(AccessRole.Admin)]
public interface IRetentionGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Runs every kind's clean-up now, each up to NOORG_RETENTION_MAX_PER_RUN; returns what each removed.</summary>
    [Alias("run")] Task<RetentionRun> RunAsync();

    /// <summary>Registers the clean-up reminder, or updates it when the interval changed. Safe to call on every silo start.</summary>
    [Alias("ensure-scheduled")] Task EnsureScheduledAsync();
}

/// <summary>What one clean-up run removed, per kind of data (<see cref="RetentionKinds"/>).</summary>
[GenerateSerializer, Immutable, Alias("noorg.retention.run")]
public sealed record RetentionRun(DateTimeOffset At, IReadOnlyDictionary<string, long> Removed);

/// <summary>The kinds of data retention cleans, as they are named in <c>noorg db stats</c> and noorg_retention_runs.</summary>
public static class RetentionKinds
{
    public const string Tasks = "tasks";
    public const string Sagas = "sagas";
    public const string TaskSamples = "task-samples";
    public const string HealthIssues = "health-issues";
    public const string DeadLetters = "dead-letters";
    public const string Inbox = "inbox";

    /// <summary>Task counter rows at zero (a task type no stored task has any more, in one slot): they would grow with every type ever seen.</summary>
    public const string TaskCounters = "task-counters";

    /// <summary>Open compensation scopes past their time-out, aborted (not removed: they go with the sagas later).</summary>
    public const string AbandonedScopes = "abandoned-scopes";
}
