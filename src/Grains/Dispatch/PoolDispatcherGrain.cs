using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;

namespace NoOrg.Grains.Dispatch;

/// <summary>
/// Dispatch for the ready tasks of one required capability list. Its queue (priority, then first come) and its view of
/// the agents' room live in memory; the task index is what it rebuilds them from. Placements run side by side: the
/// head of the queue takes the best agent with room (healthy before degraded, then least loaded), and the next task
/// does not wait for it. The agent grain has the final say on capacity
/// (<see cref="Agents.IAgentGrain.TryReserveAsync"/>), so a stale view costs a retry, never an over-assignment.
/// <para>
/// Reentrant: every call interleaves at its awaits. The state below is only touched between awaits, on the grain's
/// one scheduler, and each placement owns its task (it is out of the queue while it is placed).
/// </para>
/// </summary>
[Reentrant]
public sealed partial class PoolDispatcherGrain(
    ITaskIndex tasks,
    IAgentIndex agents,
    TimeProvider clock,
    ILogger<PoolDispatcherGrain> logger) : Grain, IPoolDispatcherGrain
{
    /// <summary>Ready tasks read from the index at a time.</summary>
    internal const int PageSize = 200;

    /// <summary>Tasks kept in memory; the rest wait in the index until the queue has room.</summary>
    private const int QueueLimit = 5_000;
    /// <summary>
    /// Placements running at once. Each agent can hold at most its free room of them, so this bound is rarely reached;
    /// it is high because placements on the grains of a silo that just died hang until that silo is declared dead and
    /// its directory lease ends, and they must not use up the placements the live agents need meanwhile (with 32, the
    /// agents' slots and the bound filled with them; docs/errors.md has the rehearsals).
    /// </summary>
    private const int MaxInFlight = 256;
    private const int ViewSize = 50;
    private const int ConcurrentNotes = 4;

    /// <summary>How long a placement holds its agent's slot in the view while the task's grain does not answer.</summary>
    private static readonly TimeSpan PlacementPatience = TimeSpan.FromSeconds(5);

    /// <summary>How long a task whose placement failed for a transient reason waits before it is offered again.</summary>
    private static readonly TimeSpan TransientRetryPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(30);

    private readonly SortedSet<QueuedTask> queue = new(DispatchOrder.Instance);
    private readonly Dictionary<string, QueuedTask> queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> placing = new(StringComparer.Ordinal);

    /// <summary>Tasks a placement failed on for a reason of their own: left alone until the next sweep.</summary>
    private readonly HashSet<string> parked = new(StringComparer.Ordinal);

    private readonly AgentView view = new();
    private readonly HashSet<string> forms = new(StringComparer.Ordinal);

    private IReadOnlyList<string> capabilities = [];
    private bool viewStale = true;
    private bool overflow;
    private bool waiting;
    private Task? refreshing;
    private Task? loading;
    private DateTimeOffset lastBusyAt;
    private int placed;

    /// <summary>Why the queued tasks cannot be placed now, while no agent has room; null while they can.</summary>
    private string? stallReason;
    private Task? explaining;
    private readonly HashSet<string> noted = new(StringComparer.Ordinal);
    private readonly Queue<string> toNote = new();
    private int notesInFlight;

    private string Pool => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        capabilities = DispatchPool.CapabilitiesOf(Pool);
        lastBusyAt = clock.GetUtcNow();
        this.RegisterGrainTimer(_ => IdleCheckAsync(), new GrainTimerCreationOptions(IdleAfter, IdleAfter) { Interleave = true });
        LoadSoon();
        DispatchMetrics.Track(this, Pool, () => queue.Count + placing.Count);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        DispatchMetrics.Untrack(this);
        return Task.CompletedTask;
    }

    public Task EnqueueAsync(QueuedTask task)
    {
        parked.Remove(task.Id);
        Add(task);
        Pump();
        return Task.CompletedTask;
    }

    public Task CapacityAsync(AgentCapacity agent)
    {
        if (view.Heard(agent))
        {
            Unstall();
        }

        Pump();
        return Task.CompletedTask;
    }

    public Task RefreshAsync(string storedForm)
    {
        LookAgain(storedForm);
        return Task.CompletedTask;
    }

    public async Task<int> SweepAsync(string storedForm)
    {
        var before = placed;
        LookAgain(storedForm);
        for (var round = 0; round < 20 && (loading ?? refreshing ?? (placing.Count > 0 ? Task.WhenAll(placing.Values) : null)) is { } busy; round++)
        {
            await busy;
        }

        return placed - before;
    }

    private void LookAgain(string storedForm)
    {
        if (!string.IsNullOrEmpty(storedForm))
        {
            forms.Add(storedForm);
        }

        parked.Clear();
        viewStale = true;
        RefreshSoon(); // the view may hold agents that left without a notice
        Unstall();
        if (waiting)
        {
            Announce(true); // the directory may have lost its memory with a silo
        }

        LoadSoon();
    }

    private void Add(QueuedTask task)
    {
        if (placing.ContainsKey(task.Id) || parked.Contains(task.Id) || !queued.TryAdd(task.Id, task))
        {
            return;
        }

        queue.Add(task);
        if (queue.Count > QueueLimit)
        {
            var last = queue.Max!;
            queue.Remove(last);
            queued.Remove(last.Id);
            overflow = true; // it is still in the index: read again once the queue has room
        }

        if (stallReason is not null)
        {
            NoteLater(task.Id);
        }
    }

    /// <summary>Starts placements for the head of the queue while agents have room; never waits itself.</summary>
    private void Pump()
    {
        if (queue.Count > 0 || placing.Count > 0)
        {
            lastBusyAt = clock.GetUtcNow();
            if (!waiting)
            {
                waiting = true;
                viewStale = true; // notices were not coming while nobody was waiting
                Announce(true);
            }
        }

        while (placing.Count < MaxInFlight && queue.Count > 0)
        {
            var agent = view.Best();
            if (agent is null)
            {
                if (viewStale)
                {
                    RefreshSoon();
                }
                else if (placing.Count == 0)
                {
                    StallSoon();
                }

                break;
            }

            var task = queue.Min!;
            queue.Remove(task);
            queued.Remove(task.Id);
            view.Placing(agent.Id);
            placing[task.Id] = PlaceAsync(task, agent.Id);
        }

        if (queue.Count < PageSize && overflow)
        {
            LoadSoon();
        }
    }

    private async Task PlaceAsync(QueuedTask task, string agentId)
    {
        await Task.Yield(); // the pump goes on with the next task
        using var span = NoOrgTracing.StartCausedBy(NoOrgTracing.DispatchPlace, ActivityKind.Internal, task.TraceParent);
        span.Recorded()?.SetTag(NoOrgTracing.TaskId, task.Id).SetTag(NoOrgTracing.AgentId, agentId).SetTag(NoOrgTracing.Pool, Pool);
        var heard = view.NoticesOf(agentId);
        var holdsSlot = true;
        try
        {
            var assigning = GrainFactory.GetGrain<ITaskGrain>(task.Id).AssignAsync(agentId, "dispatcher");
            try
            {
                await assigning.WaitAsync(PlacementPatience, clock);
            }
            catch (TimeoutException) when (!assigning.IsCompleted)
            {
                // The task's grain does not answer: its silo may have just died, and the call waits until the silo is
                // declared dead. The agent's slot is not held for it meanwhile, so live agents keep getting work.
                holdsSlot = false;
                view.GiveBack(agentId);
                Pump();
                await assigning;
                view.Accepted(agentId); // it went through after all: the agent holds the task
            }

            view.Placed(agentId, clock.GetUtcNow());
            placed++;
            noted.Remove(task.Id);
            LogPlaced(logger, task.Id, agentId);
        }
        catch (ConflictException e)
        {
            span.Failed(e);
            // The agent refused (full, not accepting, unhealthy): it leaves the view until it reports room again,
            // unless it already did while the refusal was on its way (a slot freed in between).
            view.Refused(agentId, heard);
            placing.Remove(task.Id); // else Add takes it for a placement still running and drops it until the sweep
            Add(task);
        }
        catch (Exception e) when (e is InvalidTransitionException or NotFoundException)
        {
            span.Failed(e);
            noted.Remove(task.Id); // the task moved on (cancelled, assigned by hand, removed) since it was queued
        }
        catch (Exception e) when (TransientErrors.IsTransient(e))
        {
            // The cluster could not take the call (a silo that died, a timeout, storage briefly down): nobody's fault,
            // so the agent stays in the view and the task tries again in a moment, not at the next sweep.
            span.Failed(e);
            LogTaskFailure(e, task.Id);
            RetryLater(task);
        }
        catch (Exception e)
        {
            // One task that cannot be placed must not stop the others: it waits for the next sweep.
            // Whose fault it was is unknown, so the agent leaves the view too, until it reports room or a refresh.
            span.Failed(e);
            LogTaskFailure(e, task.Id);
            parked.Add(task.Id);
            view.Drop(agentId);

            await NoteQuietlyAsync(task.Id, $"cannot be dispatched: {e.Message}");
        }
        finally
        {
            placing.Remove(task.Id);
            if (holdsSlot)
            {
                view.PlacementEnded(agentId);
            }

            Pump();
        }
    }

    private void RetryLater(QueuedTask task)
    {
        parked.Add(task.Id); // a sweep meanwhile leaves it to this retry
        _ = RetryAfterPauseAsync();

        async Task RetryAfterPauseAsync()
        {
            await Task.Delay(TransientRetryPause, clock);
            if (parked.Remove(task.Id))
            {
                Add(task);
                Pump();
            }
        }
    }

    private void LoadSoon() => loading ??= LoadAsync();

    private async Task LoadAsync()
    {
        await Task.Yield();
        try
        {
            var ready = await tasks.ReadyInPoolAsync(Pool, forms, clock.GetUtcNow(), PageSize);
            overflow = ready.Count == PageSize;
            foreach (var task in ready)
            {
                forms.Add(task.StoredCapabilities);
                Add(new QueuedTask(task.Id, task.Priority, task.CreatedAt));
            }
        }
        catch (Exception e)
        {
            LogPoolFailed(logger, e, Pool, "read its ready tasks"); // the next sweep reads again
        }
        finally
        {
            loading = null;
        }

        Pump();
    }

    private void RefreshSoon() => refreshing ??= RefreshViewAsync();

    private async Task RefreshViewAsync()
    {
        await Task.Yield();
        var refreshed = false;
        var mark = view.BeginRefresh();
        try
        {
            var candidates = await agents.CandidatesAsync(capabilities, ViewSize);

            view.Refreshed(mark, candidates.Select(c => new AgentRoom(c.Id, c.ActiveTasks, c.MaxConcurrentTasks, c.Health == "Degraded")));
            refreshed = true;
        }
        catch (Exception e)
        {
            // A list the agent index cannot look up (stored before today's limits) or a database outage: its tasks
            // wait for the next sweep, and no other pool is held up.
            LogPoolFailed(logger, e, Pool, "read the agents' room");
            stallReason ??= $"cannot be dispatched: {e.Message}";
            foreach (var id in queued.Keys)
            {
                NoteLater(id);
            }
        }
        finally
        {
            viewStale = false;
            refreshing = null;
        }

        if (refreshed)
        {
            Pump();
        }
    }

    private void Unstall()
    {
        stallReason = null;
        noted.Clear();
        toNote.Clear();
    }

    /// <summary>No agent has room: finds out why once, and tells the queued tasks (one write each, once per reason).</summary>
    private void StallSoon()
    {
        if (stallReason is not null || explaining is not null)
        {
            return;
        }

        explaining = ExplainAsync();
    }

    private async Task ExplainAsync()
    {
        await Task.Yield();
        try
        {
            var (capable, accepting) = await agents.CapabilityCoverageAsync(capabilities);
            var needs = capabilities.Count == 0 ? "any capability" : $"capabilities [{string.Join(", ", capabilities)}]";
            var reason = capable == 0 ? $"no registered agent has {needs}"
                : accepting == 0 ? $"all {capable} agent(s) with {needs} are draining, offline, in error or unhealthy"
                : $"all {accepting} agent(s) with {needs} that accept work are at capacity";
            if (view.Best() is null && queue.Count > 0)
            {
                stallReason = reason;
                LogStalled(logger, Pool, queue.Count, reason);
                foreach (var id in queued.Keys)
                {
                    NoteLater(id);
                }
            }
        }
        catch (Exception e)
        {
            LogPoolFailed(logger, e, Pool, "explain why its tasks wait");
        }
        finally
        {
            explaining = null;
        }
    }

    private void NoteLater(string taskId)
    {
        if (noted.Add(taskId))
        {
            toNote.Enqueue(taskId);
        }

        while (notesInFlight < ConcurrentNotes && toNote.Count > 0)
        {
            notesInFlight++;
            _ = NoteNextAsync(toNote.Dequeue());
        }
    }

    private async Task NoteNextAsync(string taskId)
    {
        await Task.Yield();
        try
        {
            if (stallReason is { } reason && queued.ContainsKey(taskId))
            {
                await NoteQuietlyAsync(taskId, reason);
            }
        }
        finally
        {
            notesInFlight--;
            if (toNote.Count > 0 && notesInFlight < ConcurrentNotes)
            {
                notesInFlight++;
                _ = NoteNextAsync(toNote.Dequeue());
            }
        }
    }

    private async Task NoteQuietlyAsync(string taskId, string reason)
    {
        try
        {
            await GrainFactory.GetGrain<ITaskGrain>(taskId).NoteUnassignableAsync(reason);
        }
        catch (Exception e)
        {
            LogTaskFailure(e, taskId); // the next stall notes it again
            noted.Remove(taskId);
        }
    }

    private Task IdleCheckAsync()
    {
        if (waiting && queue.Count == 0 && placing.Count == 0 && clock.GetUtcNow() - lastBusyAt > IdleAfter)
        {
            waiting = false;
            Announce(false);
            DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    private void Announce(bool interested) =>
        GrainFactory.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).InterestAsync(Pool, interested).Ignore(); // one-way

    /// <summary>Critical first, then by priority, first come within a priority.</summary>
    private sealed class DispatchOrder : IComparer<QueuedTask>
    {
        public static readonly DispatchOrder Instance = new();

        public int Compare(QueuedTask? x, QueuedTask? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null || y is null)
            {
                return x is null ? -1 : 1;
            }

            var byPriority = y.Priority.CompareTo(x.Priority);
            if (byPriority != 0)
            {
                return byPriority;
            }

            var byAge = x.CreatedAt.CompareTo(y.CreatedAt);
            return byAge != 0 ? byAge : string.CompareOrdinal(x.Id, y.Id);
        }
    }

    /// <summary>
    /// A transient failure (a silo that died, a timeout, storage briefly down) is expected and retried by the next sweep:
    /// one line at Information. Anything else may be a bug and keeps its stack trace at Warning.
    /// </summary>
    private void LogTaskFailure(Exception e, string taskId)
    {
        if (TransientErrors.IsTransient(e))
        {
            LogTaskDeferred(logger, taskId, e.GetType().Name, e.Message);
        }
        else
        {
            LogTaskFailed(logger, e, taskId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} waits for the next sweep: the cluster could not take it ({Error}: {Reason})")]
    private static partial void LogTaskDeferred(ILogger logger, string taskId, string error, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} could not be dispatched; dispatch goes on with the others")]
    private static partial void LogTaskFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatch pool {Pool} could not {What}; the next sweep tries again")]
    private static partial void LogPoolFailed(ILogger logger, Exception exception, string pool, string what);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Task {TaskId} placed on agent {AgentId}")]
    private static partial void LogPlaced(ILogger logger, string taskId, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dispatch pool {Pool}: {Count} task(s) wait: {Reason}")]
    private static partial void LogStalled(ILogger logger, string pool, int count, string reason);
}
