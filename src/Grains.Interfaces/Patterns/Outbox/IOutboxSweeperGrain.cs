using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// One per cluster: finds grains whose outbox rows are left over (by a crash, or waiting out a back-off in a grain
/// that went away) and wakes them to deliver; also trims the inbox to its retention.
/// </summary>
[Alias("noorg.outbox.sweeper")]
public interface IOutboxSweeperGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    /// <summary>Registers the sweep reminder and starts the sweep timer (idempotent).</summary>
    [Alias("ensure-running"), Requires(AccessRole.Admin)] Task EnsureRunningAsync();

    /// <summary>One sweep now; returns how many grains were woken.</summary>
    [Alias("sweep")] Task<int> SweepNowAsync();

    [Alias("summary"), Requires(AccessRole.Reader)] Task<IReadOnlyList<OutboxSummary>> SummaryAsync();

    [Alias("dead-hosts"), Requires(AccessRole.Reader)] Task<IReadOnlyList<OutboxDeadHost>> DeadHostsAsync(int take);

    /// <summary>Retries the dead letters of the grain stored under <paramref name="stateName"/> and <paramref name="key"/>.</summary>
    [Alias("retry")] Task<int> RetryAsync(string stateName, string key, string? messageId);

    /// <summary>The outbox of the grain stored under <paramref name="stateName"/> and <paramref name="key"/>.</summary>
    [Alias("inspect"), Requires(AccessRole.Reader)] Task<IReadOnlyList<OutboxEntryView>> InspectAsync(string stateName, string key);
}
