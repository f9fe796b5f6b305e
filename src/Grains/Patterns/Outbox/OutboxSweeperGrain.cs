using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using Orleans.Configuration;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// Crash recovery for every outbox without a write or a reminder per message: every
/// <c>NOORG_OUTBOX_SWEEP_SECONDS</c> it reads which grains have outbox rows that are due and untouched for a sweep
/// period (a relay that is alive delivers at once or keeps its rows fresh with each attempt), and wakes those grains,
/// which read their rows and deliver. A reminder keeps it alive across silo losses, like the dispatcher. (The inbox is trimmed
/// by retention, <c>RetentionGrain</c>.)
/// </summary>
public sealed partial class OutboxSweeperGrain(
    SqlOutboxStore store,
    OutboxRegistry registry,
    NoOrgSettings settings,
    IOptions<ClusterOptions> cluster,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<OutboxSweeperGrain> logger) : Grain, IOutboxSweeperGrain, IRemindable
{
    internal const int BatchSize = 500;
    private const int Parallelism = 16;

    private string ServiceId => cluster.Value.ServiceId;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var sweep = TimeSpan.FromSeconds(settings.Outbox.SweepSeconds);
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        var reminder = sweep > minimum ? sweep : minimum;
        await this.RegisterOrUpdateReminder("sweep", reminder, reminder);
        this.RegisterGrainTimer(_ => SweepAsync(), new GrainTimerCreationOptions(sweep, sweep) { KeepAlive = true });
    }

    public Task EnsureRunningAsync() => Task.CompletedTask;

    public Task<int> SweepNowAsync() => SweepAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => SweepAsync();

    public Task<IReadOnlyList<OutboxSummary>> SummaryAsync() => store.SummaryAsync(ServiceId);

    public Task<IReadOnlyList<OutboxDeadHost>> DeadHostsAsync(int take)
    {
        if (take is < 1 or > 1000)
        {
            throw new ValidationException($"take: must be 1 to 1000 (got {take}).");
        }

        return store.DeadHostsAsync(ServiceId, take);
    }

    public Task<int> RetryAsync(string stateName, string key, string? messageId) => HostOf(stateName, key).RetryDeadLettersAsync(messageId);

    public Task<IReadOnlyList<OutboxEntryView>> InspectAsync(string stateName, string key) => HostOf(stateName, key).GetOutboxAsync();

    private IOutboxGrain HostOf(string stateName, string key)
    {
        if (string.IsNullOrWhiteSpace(stateName) || string.IsNullOrWhiteSpace(key))
        {
            throw new ValidationException("stateName and key: required.");
        }

        return registry.Host(GrainFactory, stateName, key)
            ?? throw new NotFoundException(
                $"No outbox-hosting grain stores its state as '{stateName}'; known: {string.Join(", ", registry.HostStateNames.Order(StringComparer.Ordinal))}.");
    }

    private async Task<int> SweepAsync()
    {
        var woken = 0;
        try
        {
            var rows = await store.PendingAsync(ServiceId, settings.Outbox.SweepSeconds, BatchSize);
            foreach (var chunk in rows.Chunk(Parallelism))
            {
                var results = await Task.WhenAll(chunk.Select(WakeAsync));
                woken += results.Count(r => r);
            }

            if (woken > 0)
            {
                LogSwept(logger, woken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSweepFailed(logger, e);
        }

        return woken;
    }

    private async Task<bool> WakeAsync((string StateName, string Key) row)
    {
        if (registry.Host(GrainFactory, row.StateName, row.Key) is not { } host)
        {
            LogUnknownHost(logger, row.StateName, row.Key);
            return false;
        }

        try
        {
            await host.DeliverOutboxAsync();
            return true;
        }
        catch (Exception e)
        {
            LogWakeFailed(logger, e, row.StateName, row.Key);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox sweep: woke {Grains} grain(s) with pending messages")]
    private static partial void LogSwept(ILogger logger, int grains);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox sweep failed; the next one retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox sweep: state '{StateName}' of {Key} holds messages but no outbox host is registered for it (AddOutboxHost)")]
    private static partial void LogUnknownHost(ILogger logger, string stateName, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox sweep: could not wake {StateName} {Key}")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, string stateName, string key);
}
