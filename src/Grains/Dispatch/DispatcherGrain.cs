using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;
using Orleans.Configuration;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// The dispatch directory: it holds no durable state and places nothing itself. Pools with tasks tell it they wait
/// (<see cref="IDispatcherGrain.InterestAsync"/>); an agent's room goes to every waiting pool whose capability list the
/// agent covers. A 5 s timer and a durable reminder sweep the task index for pools with ready tasks and have each read
/// its tasks again, so a notice lost with a silo, or a change no agent reported (health), only delays dispatch.
/// Everything it does is in memory, so it is reentrant: a sweep waiting on the database does not hold up notices.
/// </summary>
[Reentrant]
public sealed partial class DispatcherGrain(
    ITaskIndex tasks,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<DispatcherGrain> logger) : Grain, IDispatcherGrain, IRemindable
{
    /// <summary>Ready tasks one pool reads from the index at a time.</summary>
    internal const int BatchSize = PoolDispatcherGrain.PageSize;

    /// <summary>Pools one sweep looks at.</summary>
    private const int MaxPoolsPerSweep = 1_000;
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Waiting pools, by key, with the capability list each needs.</summary>
    private readonly Dictionary<string, IReadOnlyList<string>> waiting = new(StringComparer.Ordinal);
    private Task<int>? sweeping;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = reminderOptions.Value.MinimumReminderPeriod > TimeSpan.FromMinutes(1)
            ? reminderOptions.Value.MinimumReminderPeriod
            : TimeSpan.FromMinutes(1);
        await this.RegisterOrUpdateReminder("sweep", period, period);
        // The first sweep comes at once: an activation after a silo loss has forgotten which pools wait.
        this.RegisterGrainTimer(_ => SweepQuietlyAsync(), new GrainTimerCreationOptions(TimeSpan.Zero, SweepPeriod) { KeepAlive = true, Interleave = true });
    }

    public Task KickAsync() => SweepQuietlyAsync();

    public Task CapacityAsync(AgentCapacity agent)
    {
        foreach (var (pool, needs) in waiting)
        {
            if (needs.All(c => agent.Capabilities.Contains(c, StringComparer.Ordinal)))
            {
                GrainFactory.GetGrain<IPoolDispatcherGrain>(pool).CapacityAsync(agent).Ignore();
            }
        }

        return Task.CompletedTask;
    }

    public Task InterestAsync(string pool, bool waiting)
    {
        if (waiting)
        {
            this.waiting[pool] = DispatchPool.CapabilitiesOf(pool);
        }
        else
        {
            this.waiting.Remove(pool);
        }

        return Task.CompletedTask;
    }

    public async Task<int> DispatchNowAsync()
    {
        var forms = await tasks.ReadyPoolsAsync(clock.GetUtcNow(), MaxPoolsPerSweep);
        var placed = await Task.WhenAll(forms.Select(form => PoolOf(form).SweepAsync(form)));
        return placed.Sum();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => SweepQuietlyAsync();

    /// <summary>One sweep at a time; a sweep asked for while one runs is that one.</summary>
    private Task SweepQuietlyAsync() => sweeping ??= SweepAsync();

    private async Task<int> SweepAsync()
    {
        await Task.Yield(); // so that the sweep is in `sweeping` before it can finish
        try
        {
            var forms = await tasks.ReadyPoolsAsync(clock.GetUtcNow(), MaxPoolsPerSweep);
            foreach (var form in forms)
            {
                PoolOf(form).RefreshAsync(form).Ignore();
            }

            return forms.Count;
        }
        catch (Exception e)
        {
            LogSweepFailed(logger, e);
            return 0;
        }
        finally
        {
            sweeping = null;
        }
    }

    private IPoolDispatcherGrain PoolOf(string storedForm) =>
        GrainFactory.GetGrain<IPoolDispatcherGrain>(DispatchPool.KeyOf(DispatchPool.CapabilitiesOf(storedForm)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "A dispatch sweep could not read the pools with ready tasks; the next one tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
