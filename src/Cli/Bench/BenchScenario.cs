namespace NoOrg.Cli.Bench;

/// <summary>One measured operation. <see cref="RunOnceAsync"/> returns the latency it measured, which may span more
/// than one call (an assignment ends when the agent has the task, not when the create call returns).</summary>
internal abstract class BenchScenario
{
    public abstract string Name { get; }

    /// <summary>What one sample is, from where to where: printed in the report so the figures can be read.</summary>
    public abstract string Measures { get; }

    /// <summary>Floors are the baselines the operations are compared with.</summary>
    public virtual bool IsFloor => false;

    /// <summary>Once before the first level (agents, workers, tables).</summary>
    public virtual Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>Waits for work that samples left running in the background (none by default).</summary>
    public virtual Task SettleAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After each level: leaves nothing behind that would load the cluster during the next measurement.</summary>
    public virtual Task CleanUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Once after the last level.</summary>
    public virtual Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>How long a sample may wait for an event before it counts as an error.</summary>
    protected static readonly TimeSpan EventPatience = TimeSpan.FromSeconds(30);
}
