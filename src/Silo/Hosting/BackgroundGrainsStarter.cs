using NoOrg.Grains.Dispatch;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Hosting;

/// <summary>
/// Wakes the cluster's background grains when a silo starts: the dispatcher (so its sweep reminder exists before
/// any task is created), task retention and retention of everything else (so their clean-up reminders exist with the configured periods) and the outbox
/// sweeper (so messages a crash left in stored state go out), the alert rules (so their evaluation runs), and the task due shards (so time-outs and deadlines of
/// tasks whose activations a silo loss took are fired).
/// </summary>
internal sealed class BackgroundGrainsStarter(IGrainFactory grains) : IStartupTask
{
    public async Task Execute(CancellationToken cancellationToken)
    {
        await grains.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).KickAsync();
        await grains.GetGrain<ITaskRetentionGrain>(ITaskRetentionGrain.Key).EnsureScheduledAsync();
        await grains.GetGrain<NoOrg.Grains.Retention.IRetentionGrain>(NoOrg.Grains.Retention.IRetentionGrain.Key).EnsureScheduledAsync();
        await grains.GetGrain<IOutboxSweeperGrain>(IOutboxSweeperGrain.Key).EnsureRunningAsync();
        await grains.GetGrain<NoOrg.Grains.Alerts.IAlertRulesGrain>(NoOrg.Grains.Alerts.IAlertRulesGrain.Key).EnsureRunningAsync();
        await Task.WhenAll(Enumerable.Range(0, ITaskDueShardGrain.Count).Select(k => grains.GetGrain<ITaskDueShardGrain>(k).EnsureRunningAsync()));
    }
}
