using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;
using Orleans.Configuration;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// Places ready tasks on agents. It holds no durable state of its own: the task and agent indexes are the queue and
/// the roster, and the agent grain has the last word on capacity (<see cref="Agents.IAgentGrain.TryReserveAsync"/>),
/// so a stale index row can cost a retry but never an over-assignment. Kicks are coalesced into passes; a
/// reminder keeps the dispatcher alive and sweeps in case a kick was lost with a silo.
/// <para>
/// A capability list that no agent can serve right now is <em>stalled</em> in memory, with its reason: passes stop
/// reading its tasks (so they can neither fill a pass's page nor cost a query each) until an agent that could serve
/// it reports capacity (<see cref="IDispatcherGrain.CapacityAsync"/>) or the periodic sweep looks again.
/// </para>
/// </summary>
public sealed partial class DispatcherGrain(
    ITaskIndex tasks,
    IAgentIndex agents,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<DispatcherGrain> logger) : Grain, IDispatcherGrain, IRemindable
{
    internal const int BatchSize = 200;
    private const int CandidatesPerTask = 5;

    /// <summary>Assignments a pass keeps in flight at once, each on a different agent.</summary>
    private const int MaxConcurrentPlacements = 16;
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(10);

    /// <summary>Passes one dispatch may chain when each stalls new capability lists and reads a full page.</summary>
    private const int MaxChainedPasses = 100;

    private bool passRequested;
    private IGrainTimer? kickTimer;

    /// <summary>Stalled capability lists, by their stored form (<see cref="ReadyTask.StoredCapabilities"/>).</summary>
    private readonly Dictionary<string, Stall> stalled = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = reminderOptions.Value.MinimumReminderPeriod > TimeSpan.FromMinutes(1)
            ? reminderOptions.Value.MinimumReminderPeriod
            : TimeSpan.FromMinutes(1);
        await this.RegisterOrUpdateReminder("sweep", period, period);
        this.RegisterGrainTimer(_ => SweepAsync(), new GrainTimerCreationOptions(SweepPeriod, SweepPeriod) { KeepAlive = true });
    }

    public Task KickAsync()
    {
        passRequested = true;
        kickTimer ??= this.RegisterGrainTimer(_ => RunKickedPassesAsync(), new GrainTimerCreationOptions(Coalesce, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public Task CapacityAsync(IReadOnlyList<string> capabilities)
    {
        // Every stalled list this agent covers may be placeable again; lists it cannot serve stay stalled.
        var covered = stalled.Where(s => s.Value.Capabilities.All(c => capabilities.Contains(c, StringComparer.Ordinal))).Select(s => s.Key).ToArray();
        foreach (var key in covered)
        {
            stalled.Remove(key);
        }

        return KickAsync();
    }

    public Task<int> DispatchNowAsync() => SweepAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => SweepAsync();

    /// <summary>Looks at every ready task again, stalled or not: catches changes no agent reported (health, a lost notice).</summary>
    private Task<int> SweepAsync()
    {
        stalled.Clear();
        return RunPassesAsync();
    }

    private async Task RunKickedPassesAsync()
    {
        kickTimer?.Dispose();
        kickTimer = null;
        await RunPassesAsync();
    }

    /// <summary>
    /// Passes until one changes nothing or nothing more is ready. A full page that placed tasks or stalled new
    /// capability lists is followed by another pass: the next page holds different tasks.
    /// </summary>
    private async Task<int> RunPassesAsync()
    {
        var total = 0;
        var chained = 0;
        do
        {
            passRequested = false;
            var (placed, newlyStalled, full) = await PassAsync();
            total += placed;
            if (full && (placed > 0 || newlyStalled > 0) && ++chained < MaxChainedPasses)
            {
                passRequested = true;
            }
        }
        while (passRequested);

        return total;
    }

    private async Task<(int Placed, int NewlyStalled, bool Full)> PassAsync()
    {
        var ready = await tasks.ReadyAsync(clock.GetUtcNow(), BatchSize, stalled.Keys);
        var placed = 0;
        var newlyStalled = 0;

        // A task needing every capability of a stalled list can be served only by agents that list's tasks could
        // use, and none of those has room: it is noted with that reason, without a query.
        Stall? StallOf(ReadyTask task) =>
            stalled.TryGetValue(task.StoredCapabilities, out var own) ? own
            : stalled.Values.FirstOrDefault(s => s.Capabilities.All(c => task.RequiredCapabilities.Contains(c, StringComparer.Ordinal)));

        async Task StallAsync(ReadyTask task)
        {
            var reason = await ExplainAsync(task);
            if (stalled.TryAdd(task.StoredCapabilities, new Stall(task.RequiredCapabilities, reason)))
            {
                newlyStalled++;
            }

            await NoteAsync(task, reason);
        }

        // Capability sets of tasks this pass could not place. A later (lower or equal priority) task whose agents
        // are all agents the blocked task could use must not overtake it when a slot frees up mid-pass.
        var blocked = new List<IReadOnlyList<string>>();

        // Placements run concurrently, but never two on the same first-choice agent: where tasks compete for an
        // agent, the earlier one is settled before the later one is considered, so the order above still holds.
        var inFlight = new Dictionary<string, (ReadyTask Task, Task<bool> Placing)>(StringComparer.Ordinal);
        async Task SettleAsync()
        {
            foreach (var (task, placing) in inFlight.Values)
            {
                if (await placing)
                {
                    placed++;
                }
                else
                {
                    blocked.Add(task.RequiredCapabilities);
                }
            }

            inFlight.Clear();
        }

        bool IsBlocked(ReadyTask task) => blocked.Any(b => b.All(c => task.RequiredCapabilities.Contains(c, StringComparer.Ordinal)));

        async Task ConsiderAsync(ReadyTask task)
        {
            if (StallOf(task) is { } stall)
            {
                await NoteAsync(task, stall.Reason);
                return;
            }

            if (IsBlocked(task))
            {
                await NoteAsync(task, await ExplainAsync(task));
                return;
            }

            var candidates = await agents.CandidatesAsync(task.RequiredCapabilities, CandidatesPerTask);
            if (candidates.Count == 0)
            {
                await StallAsync(task);
                return;
            }

            var free = candidates.Where(c => !inFlight.ContainsKey(c.Id)).ToArray();
            if (inFlight.Count >= MaxConcurrentPlacements || (candidates.Count > 0 && free.Length == 0))
            {
                await SettleAsync();
                if (IsBlocked(task))
                {
                    await NoteAsync(task, await ExplainAsync(task));
                    return;
                }

                free = [.. await agents.CandidatesAsync(task.RequiredCapabilities, CandidatesPerTask)];
                if (free.Length == 0)
                {
                    // Nothing in flight any more: no agent has room for this list at all.
                    blocked.Add(task.RequiredCapabilities);
                    await StallAsync(task);
                    return;
                }
            }

            inFlight[free[0].Id] = (task, PlaceOrLogAsync(task, free));
        }

        foreach (var task in ready)
        {
            try
            {
                await ConsiderAsync(task);
            }
            catch (Exception e)
            {
                // One task that cannot be handled must not stop dispatch for the others: its list waits for a sweep.
                var reason = $"cannot be dispatched: {e.Message}";
                LogTaskFailed(logger, e, task.Id);
                if (stalled.TryAdd(task.StoredCapabilities, new Stall(task.RequiredCapabilities, reason)))
                {
                    newlyStalled++;
                }

                await NoteQuietlyAsync(task, reason);
            }
        }

        await SettleAsync();
        return (placed, newlyStalled, ready.Count == BatchSize);
    }

    private Task NoteAsync(ReadyTask task, string reason) => GrainFactory.GetGrain<ITaskGrain>(task.Id).NoteUnassignableAsync(reason);

    private async Task NoteQuietlyAsync(ReadyTask task, string reason)
    {
        try
        {
            await NoteAsync(task, reason);
        }
        catch (Exception e)
        {
            LogTaskFailed(logger, e, task.Id); // the next sweep notes it
        }
    }

    /// <summary>A placement that threw is one that did not place: the others of the pass go on.</summary>
    private async Task<bool> PlaceOrLogAsync(ReadyTask task, IReadOnlyList<AgentSummary> candidates)
    {
        try
        {
            return await PlaceAsync(task, candidates);
        }
        catch (Exception e)
        {
            LogTaskFailed(logger, e, task.Id);
            return false;
        }
    }

    /// <summary>Tries the candidates in order; false (and the reason noted on the task) when none takes it.</summary>
    private async Task<bool> PlaceAsync(ReadyTask task, IReadOnlyList<AgentSummary> candidates)
    {
        var grain = GrainFactory.GetGrain<ITaskGrain>(task.Id);
        foreach (var candidate in candidates)
        {
            try
            {
                await grain.AssignAsync(candidate.Id, "dispatcher");
                return true;
            }
            catch (ConflictException)
            {
                // The agent refused (filled up or changed since the index row was written): try the next one.
            }
            catch (InvalidTransitionException)
            {
                return false; // the task moved on (cancelled, assigned by hand) since the index was read
            }
            catch (NotFoundException)
            {
                return false;
            }
        }

        await NoteAsync(task, await ExplainAsync(task));
        return false;
    }

    private async Task<string> ExplainAsync(ReadyTask task)
    {
        var (capable, accepting) = await agents.CapabilityCoverageAsync(task.RequiredCapabilities);
        var needs = task.RequiredCapabilities.Count == 0 ? "any capability" : $"capabilities [{string.Join(", ", task.RequiredCapabilities)}]";
        var reason = capable == 0 ? $"no registered agent has {needs}"
            : accepting == 0 ? $"all {capable} agent(s) with {needs} are draining, offline, in error or unhealthy"
            : $"all {accepting} agent(s) with {needs} that accept work are at capacity";
        LogUnassignable(logger, task.Id, reason);
        return reason;
    }

    private sealed record Stall(IReadOnlyList<string> Capabilities, string Reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} could not be dispatched; dispatch goes on with the others")]
    private static partial void LogTaskFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Task {TaskId} cannot be placed: {Reason}")]
    private static partial void LogUnassignable(ILogger logger, string taskId, string reason);
}
