using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Concurrency;
using NoOrg.Grains.Dispatch;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Health;
using NoOrg.Grains.Reminders;
using NoOrg.Grains.Watching;
using NoOrg.Grains.Tasks;
using Orleans.Concurrency;
using Orleans.Configuration;
using Orleans.Utilities;

namespace NoOrg.Grains.Agents;

/// <summary>
/// One agent. A change is made durable (the database projects the registry index in the same statement), published
/// on the agent streams, and only then followed by its side effects (reminder, dispatcher kick, task hand-backs).
/// </summary>
/// <remarks>
/// Reentrant so it can wait on task grains that call it back (a task told its agent is gone releases it; a task
/// asked for its snapshot may be reserving a slot here). Every read and change of state still runs one at a time
/// under <see cref="gate"/>, and nothing under the gate waits on a grain that could call back.
/// </remarks>
[Reentrant]
public sealed partial class AgentGrain(
    [PersistentState("agent", StorageNames.Default)] IPersistentState<AgentState> state,
    NoOrgSettings settings,
    TimeProvider clock,
    IAgentIndex index,
    ITaskIndex tasks,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain, IRemindable
{
    internal const string LivenessReminder = "liveness";

    /// <summary>A task grain that cannot be told this many times is given up on (its own timeout still applies).</summary>
    internal const int HandBackAttemptLimit = 20;

    private readonly TurnGate gate = new();
    private ObserverManager<IAgentWorker>? workers;
    private ChangeFeed<IAgentWatcher, AgentEvent>? feed;
    private WorkerAdmission? admission;
    private bool handingBack;
    private IGrainTimer? watchTimer;

    /// <summary>The last-seen time storage holds (liveness between changes is kept in memory).</summary>
    private DateTimeOffset storedLivenessAt = DateTimeOffset.MinValue;

    private string Id => this.GetPrimaryKeyString();

    private TimeSpan HeartbeatTimeout => TimeSpan.FromSeconds(settings.Agents.HeartbeatTimeoutSeconds);

    private ObserverManager<IAgentWorker> Workers => workers ??=
        new ObserverManager<IAgentWorker>(2 * HeartbeatTimeout, logger) { GetDateTime = () => clock.GetUtcNow().UtcDateTime };

    public async Task<AgentSnapshot> RegisterAsync(AgentRegistration registration)
    {
        var wanted = AgentRules.Normalize(Id, registration);
        var (snapshot, registered) = await gate.RunAsync(async () =>
        {
            var current = state.State;
            if (current.Registration is { } existing)
            {
                var differences = AgentRules.Differences(existing, wanted);
                if (differences.Count > 0)
                {
                    throw new ConflictException(
                        $"Agent '{Id}' is already registered with a different {string.Join(", ", differences)}. "
                        + "Change it with an update, or unregister it first.");
                }

                return (Snapshot(), false);
            }

            var now = clock.GetUtcNow();
            var next = new AgentState
            {
                Registration = wanted,
                Status = AgentStatus.Available,
                RegisteredAt = now,
                LastSeenAt = now,
                Version = current.Version,
                HandBacks = current.HandBacks,
            };
            var detail = $"type {wanted.Type}; capabilities {string.Join(", ", wanted.Capabilities)}; up to {wanted.MaxConcurrentTasks} task(s)";
            await CommitAsync(next, now, [new Change(AgentEventKind.Registered, detail)]);
            return (Snapshot(), true);
        });

        // The registration is durable: the caller's answer does not wait for the reminder, the monitor or the
        // dispatcher. Also on a repeated registration, which heals a reminder lost after the first one was stored.
        ArmWatch(kickDispatcher: registered);
        return snapshot;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Registration is null)
        {
            return;
        }

        // The held tasks are the ones whose own writes say so, less those already in the hand-back outbox.
        var handedBack = state.State.HandBacks.Select(h => h.TaskId).ToHashSet(StringComparer.Ordinal);
        var held = await tasks.HeldByAsync(Id, cancellationToken);
        state.State = state.State with
        {
            ActiveTaskIds = [.. held.Where(t => !handedBack.Contains(t))],
            // Written before Busy was read from the load: a stored Busy means available.
            Status = state.State.Status == AgentStatus.Busy ? AgentStatus.Available : state.State.Status,
            StatusReason = state.State.Status == AgentStatus.Busy ? null : state.State.StatusReason,
        };

        // Heals a watch that a crash cut off between a registration and its reminder (one upsert per activation).
        if (!state.State.Quiet)
        {
            ArmWatch(kickDispatcher: false);
        }
    }

    /// <summary>
    /// Right after the current turn, and retried every second until it succeeds: the liveness reminder and the
    /// health monitor (independent, so together), then a dispatcher notice.
    /// </summary>
    private void ArmWatch(bool kickDispatcher)
    {
        watchTimer?.Dispose();
        watchTimer = this.RegisterGrainTimer(async _ =>
        {
            try
            {
                await Task.WhenAll(RegisterLivenessReminderAsync(), StartMonitorAsync());
            }
            catch (Exception e)
            {
                LogWatchFailed(logger, Id, e);
                return; // the timer comes back in a second
            }

            watchTimer?.Dispose();
            watchTimer = null;
            if (kickDispatcher)
            {
                await KickDispatcherAsync();
            }
        }, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromSeconds(1)) { KeepAlive = true });
    }

    public async Task<AgentSnapshot> UpdateAsync(AgentUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var (snapshot, moreRoom) = await gate.RunAsync(async () =>
        {
            var current = RequireRegistered();
            var before = current.Registration!;
            var after = AgentRules.Apply(Id, before, update);
            var differences = AgentRules.Differences(before, after);
            if (differences.Count == 0)
            {
                return (Snapshot(), false);
            }

            var now = clock.GetUtcNow();
            await CommitAsync(current with { Registration = after }, now, [new Change(AgentEventKind.Updated, "changed " + string.Join(", ", differences))]);
            var gained = after.MaxConcurrentTasks > before.MaxConcurrentTasks || after.Capabilities.Except(before.Capabilities, StringComparer.Ordinal).Any();
            return (Snapshot(), gained);
        });

        if (moreRoom)
        {
            await KickDispatcherAsync();
        }

        return snapshot;
    }

    public async Task UnregisterAsync(string reason)
    {
        var why = AgentRules.Reason(reason) ?? "no reason given";
        var wasQuiet = false;
        var unregistered = await gate.RunAsync(async () =>
        {
            var current = state.State;
            wasQuiet = current.Quiet;
            if (current.Registration is null)
            {
                return false; // already gone: a retried unregister succeeds
            }

            var now = clock.GetUtcNow();
            var handBackReason = $"agent unregistered: {why}";

            // The tombstone goes first: from here on no reservation lands on this agent, so a task handed back
            // below cannot be dispatched straight back to it.
            var tombstone = new AgentState
            {
                Status = AgentStatus.Offline,
                StatusReason = handBackReason,
                UpdatedAt = now,
                Version = current.Version + 1,
                HandBacks = [.. current.HandBacks, .. current.ActiveTaskIds.Select(t => new HandBack(t, handBackReason))],
            };
            await WriteAsync(tombstone);
            // The tombstone's write also removes the history rows: registering again starts a fresh history.
            var unregisteredEvent = new AgentEvent(Id, current.EventCount + 1, now, AgentEventKind.Unregistered, AgentStatus.Offline, why, null);

            await RevokeAsync(current.ActiveTaskIds, handBackReason);
            Workers.Clear();
            await PublishAsync([unregisteredEvent]);
            return true;
        });

        if (unregistered)
        {
            if (wasQuiet)
            {
                // Dropped while the agent was quiet: it retries the hand-backs until done.
                await RegisterLivenessReminderAsync();
            }

            // A monitor gone quiet runs no rounds: woken, its next round finds the agent gone and stops.
            await StartMonitorAsync();

            await HandBackAsync();
            await ForgetReminderIfDoneAsync();
        }
    }

    public Task<AgentSnapshot?> GetAsync() =>
        gate.RunAsync(() => Task.FromResult(state.State.Registration is null ? null : Snapshot()));

    public async Task<AgentSnapshot> HeartbeatAsync()
    {
        var (snapshot, back) = await gate.RunAsync(async () =>
        {
            var back = await RecordHeartbeatAsync(detail: null);
            return (Snapshot(), back);
        });

        await ResumeIfQuietAsync();
        if (back)
        {
            await KickDispatcherAsync();
        }

        return snapshot;
    }

    public async Task<AgentSnapshot> SetStatusAsync(AgentStatus status, string reason)
    {
        if (status == AgentStatus.Busy)
        {
            throw new ValidationException(
                "Status Busy cannot be set: an agent is busy exactly while it holds as many tasks as it may. Set Available, Draining, Offline or Error.");
        }

        if (!Enum.IsDefined(status))
        {
            throw new ValidationException($"Status {(int)status} is unknown. Set Available, Draining, Offline or Error.");
        }

        var why = AgentRules.Reason(reason);
        var (snapshot, handedBack, accepting) = await gate.RunAsync(async () =>
        {
            var current = RequireRegistered();
            var accepting = current.Status is AgentStatus.Available or AgentStatus.Busy;
            if ((status == AgentStatus.Available && accepting) || (status == current.Status && why == current.StatusReason))
            {
                return (Snapshot(), false, false);
            }

            var now = clock.GetUtcNow();
            AgentState next;
            string? handBackReason = null;
            var changes = new List<Change>();
            if (status == AgentStatus.Available)
            {
                // Back from offline by an operator's word: the heartbeat timeout counts again from now.
                next = current with { Status = AgentStatus.Available, StatusReason = why, LastSeenAt = current.Status == AgentStatus.Offline ? now : current.LastSeenAt };
            }
            else if (status == AgentStatus.Offline)
            {
                handBackReason = "agent set offline" + (why is null ? "" : $": {why}");
                next = GoOffline(current, why, handBackReason, changes);
            }
            else
            {
                next = current with { Status = status, StatusReason = why };
            }

            NoteStatusChange(changes, current, next, why);
            await CommitAsync(next, now, changes);
            if (handBackReason is not null)
            {
                await RevokeAsync(current.ActiveTaskIds, handBackReason);
            }

            return (Snapshot(), status == AgentStatus.Offline, status == AgentStatus.Available);
        });

        if (handedBack)
        {
            await HandBackAsync();
        }

        await ResumeIfQuietAsync();
        if (accepting)
        {
            await KickDispatcherAsync();
        }

        return snapshot;
    }

    public async Task<Page<AgentEvent>> GetHistoryAsync(int skip, int take)
    {
        AgentRules.Page(skip, take);
        var total = await gate.RunAsync(() => Task.FromResult(RequireRegistered().EventCount));
        return new Page<AgentEvent>(await index.HistoryAsync(Id, skip, take), total, skip);
    }

    public Task<IReadOnlyList<TaskSnapshot>> ConnectAsync(IAgentWorker worker) => ConnectAsync(worker, []);

    public async Task<IReadOnlyList<TaskSnapshot>> ConnectAsync(IAgentWorker worker, IReadOnlyList<string> running)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(running);
        var (held, back) = await gate.RunAsync(async () =>
        {
            RequireRegistered();
            if ((admission ??= new WorkerAdmission(HeartbeatTimeout)).Admit(Id, worker, clock.GetUtcNow()) is { } silent)
            {
                Workers.Unsubscribe(silent);
            }

            var isNew = !Workers.Observers.ContainsKey(worker);
            Workers.Subscribe(worker, worker);
            var back = await RecordHeartbeatAsync(isNew ? "worker connected" : null, fromWorker: true);
            return (state.State.ActiveTaskIds, back);
        });

        await ResumeIfQuietAsync();
        if (back)
        {
            await KickDispatcherAsync();
        }

        if (held.Count == 0)
        {
            return [];
        }

        // Outside the gate: a task grain may be calling this agent right now (a reservation, a release).
        // One index query says which held tasks finished or moved on without a release reaching this agent (they
        // would hold its capacity forever); only held tasks the worker is not running are read and sent back.
        var (gone, others) = await CheckHeldAsync(held, running);
        var read = await Task.WhenAll(others.Select(ReadTaskAsync));
        var resume = read
            .Where(r => r.Snapshot is { State: TaskState.Assigned or TaskState.Running } s && s.AssignedTo == Id)
            .Select(r => r.Snapshot!)
            .ToList();
        gone = [.. gone, .. read.Where(r => r.Known && (r.Snapshot is null || r.Snapshot.IsTerminal || (r.Snapshot.AssignedTo is { } to && to != Id))).Select(r => r.TaskId)];
        if (gone.Count > 0 && await ReleaseHeldAsync([.. gone.Distinct(StringComparer.Ordinal)]))
        {
            await KickDispatcherAsync();
        }

        return resume;
    }

    public Task DisconnectAsync(IAgentWorker worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return gate.RunAsync(async () =>
        {
            admission?.Leave(worker);
            if (!Workers.Observers.ContainsKey(worker))
            {
                return;
            }

            Workers.Unsubscribe(worker);
            if (state.State.Registration is not null)
            {
                await CommitAsync(state.State, clock.GetUtcNow(), [new Change(AgentEventKind.Heartbeat, "worker disconnected")]);
            }
        });
    }

    public Task<bool> TryReserveAsync(string taskId, IReadOnlyList<string> requiredCapabilities)
    {
        var id = TaskId(taskId);
        var required = AgentRules.Capabilities(requiredCapabilities, "RequiredCapabilities", requireOne: false);
        return gate.RunAsync(() =>
        {
            var current = state.State;
            if (current.Registration is not { } registration)
            {
                return Task.FromResult(false);
            }

            if (current.ActiveTaskIds.Contains(id, StringComparer.Ordinal))
            {
                return Task.FromResult(true);
            }

            if (current.Status is not (AgentStatus.Available or AgentStatus.Busy)
                || current.Health == HealthStatus.Unhealthy
                || current.ActiveTaskIds.Count >= registration.MaxConcurrentTasks
                || !required.All(c => registration.Capabilities.Contains(c, StringComparer.Ordinal)))
            {
                return Task.FromResult(false);
            }

            // Memory only: the task's write that follows is the durable record of the hold (and counts the load).
            state.State = current with { ActiveTaskIds = [.. current.ActiveTaskIds, id] };
            return Task.FromResult(true);
        });
    }

    public async Task ReleaseAsync(string taskId)
    {
        if (await ReleaseHeldAsync([TaskId(taskId)]))
        {
            await KickDispatcherAsync();
        }
    }

    public async Task RevokeAsync(string taskId, string reason)
    {
        await ReleaseAsync(taskId);
        await Workers.Notify(w => w.TaskRevoked(taskId, reason));
    }

    public Task DeliverAsync(TaskSnapshot task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return gate.RunAsync(async () =>
        {
            if (state.State.Registration is null || !state.State.ActiveTaskIds.Contains(task.Id, StringComparer.Ordinal))
            {
                LogDeliveryIgnored(logger, Id, task.Id);
                return;
            }

            await Workers.Notify(w => w.TaskAssigned(task));
        });
    }

    public Task<AgentLiveness> GetLivenessAsync() =>
        gate.RunAsync(() => Task.FromResult(new AgentLiveness(
            state.State.Registration is null ? null : Snapshot(),
            state.State.LastSeenAt,
            ConnectedWorkers(),
            state.State.LastWorkerContactAt)));

    private int ConnectedWorkers()
    {
        if (workers is null)
        {
            return 0;
        }

        workers.ClearExpired();
        return workers.Count;
    }

    public async Task ApplyHealthAsync(AgentHealthVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        var (handedBack, recovered) = await gate.RunAsync(async () =>
        {
            var current = state.State;
            if (current.Registration is null)
            {
                return (false, false);
            }

            var takeBack = verdict.HandBackTasks && verdict.Status == HealthStatus.Unhealthy;
            var goOffline = takeBack && verdict.OfflineReason is not null && current.Status != AgentStatus.Offline;
            takeBack = takeBack && (goOffline || current.ActiveTaskIds.Count > 0);
            if (current.Health == verdict.Status && current.HealthReason == verdict.Reason && !takeBack)
            {
                return (false, false);
            }

            var now = clock.GetUtcNow();
            var changes = new List<Change>();
            var next = current with { Health = verdict.Status, HealthReason = verdict.Reason };
            if (current.Health != verdict.Status)
            {
                changes.Add(new Change(AgentEventKind.HealthChanged, $"{current.Health} -> {verdict.Status}" + (verdict.Reason is null ? "" : $": {verdict.Reason}")));
            }

            var handBackReason = $"agent unhealthy: {verdict.Reason}";
            if (goOffline)
            {
                next = GoOffline(next, verdict.OfflineReason, handBackReason, changes);
                NoteStatusChange(changes, current, next, verdict.OfflineReason);
            }
            else if (takeBack)
            {
                next = TakeTasksBack(next, handBackReason, changes);
                NoteStatusChange(changes, current, next);
            }

            await CommitAsync(next, now, changes);
            if (takeBack)
            {
                await RevokeAsync(current.ActiveTaskIds, handBackReason);
                LogHandedBackUnhealthy(logger, Id, verdict.Reason ?? "", current.ActiveTaskIds.Count);
            }

            return (takeBack, current.Health == HealthStatus.Unhealthy && verdict.Status != HealthStatus.Unhealthy);
        });

        if (handedBack)
        {
            await HandBackAsync();
        }

        if (recovered)
        {
            await KickDispatcherAsync();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != LivenessReminder)
        {
            return;
        }

        var quiet = await gate.RunAsync(async () =>
        {
            var current = state.State;
            if (current.Registration is null)
            {
                return false;
            }

            if (current is { Status: AgentStatus.Offline, ActiveTaskIds.Count: 0, HandBacks.Count: 0 })
            {
                // Nothing to watch until the agent comes back (ResumeIfQuietAsync); its monitor goes quiet on its own.
                if (!current.Quiet)
                {
                    await WriteAsync(current with { Quiet = true });
                }

                await this.UnregisterReminderIfAnyAsync(LivenessReminder);
                return true;
            }

            if (status.Period != LivenessPeriod)
            {
                // The heartbeat timeout (or the reminder floor) changed since the reminder was registered.
                await RegisterLivenessReminderAsync();
            }

            return false;
        });
        if (quiet)
        {
            return;
        }

        // Heals a monitor whose start was lost; its health checks decide when this agent is silent.
        if (state.State.Registration is not null)
        {
            await StartMonitorAsync();
        }

        await HandBackAsync();
        await ForgetReminderIfDoneAsync();
    }

    private static string TaskId(string taskId) =>
        string.IsNullOrWhiteSpace(taskId) ? throw new ValidationException("TaskId is required.") : taskId;

    private static void NoteStatusChange(List<Change> changes, AgentState before, AgentState after, string? why = null)
    {
        if (before.Status != after.Status)
        {
            var reason = why ?? after.StatusReason;
            changes.Add(new Change(AgentEventKind.StatusChanged, $"{before.Status} -> {after.Status}" + (reason is null ? "" : $": {reason}")));
        }
    }

    private TimeSpan LivenessPeriod =>
        HeartbeatTimeout > reminderOptions.Value.MinimumReminderPeriod ? HeartbeatTimeout : reminderOptions.Value.MinimumReminderPeriod;

    private AgentState RequireRegistered() =>
        state.State.Registration is null
            ? throw NotFoundException.ForAgent(Id)
            : state.State;

    /// <summary>Busy is read from the load, never stored: an available agent holding as many tasks as it may.</summary>
    private AgentSnapshot Snapshot()
    {
        var s = state.State;
        var (active, max) = (s.ActiveTaskIds.Count, s.Registration!.MaxConcurrentTasks);
        var (status, reason) = s.Status == AgentStatus.Available && active >= max
            ? (AgentStatus.Busy, $"at capacity ({active}/{max})")
            : (s.Status, s.StatusReason);
        return new AgentSnapshot(Id, s.Registration, status, reason, s.ActiveTaskIds, s.RegisteredAt, s.UpdatedAt, s.LastHeartbeatAt, s.Version, s.Health);
    }

    /// <summary>Under the gate. Returns true when the heartbeat brought the agent back from offline.</summary>
    private async Task<bool> RecordHeartbeatAsync(string? detail, bool fromWorker = false)
    {
        var current = RequireRegistered();
        var now = clock.GetUtcNow();
        var next = current with { LastHeartbeatAt = now, LastSeenAt = now, LastWorkerContactAt = fromWorker ? now : current.LastWorkerContactAt };
        AgentMetrics.Heartbeat(current.Registration!.Type, current.LastHeartbeatAt, now, HeartbeatTimeout);
        var changes = new List<Change>();
        if (detail is not null)
        {
            changes.Add(new Change(AgentEventKind.Heartbeat, detail));
        }

        var back = current.Status == AgentStatus.Offline;
        if (back)
        {
            next = next with { Status = AgentStatus.Available, StatusReason = null };
            NoteStatusChange(changes, current, next, "heartbeat received");
        }

        if (changes.Count == 0 && now - storedLivenessAt < LivenessWriteInterval)
        {
            // Liveness alone lives in memory (the health monitor asks this grain, not storage) and is stored with the
            // next change or once per interval: a crash loses at most that much of it, never a change.
            state.State = next;
            return false;
        }

        await CommitAsync(next, now, changes);
        return back;
    }

    /// <summary>How stale a stored heartbeat may be: half the heartbeat timeout, so a silo restart cannot make a live agent look silent.</summary>
    private TimeSpan LivenessWriteInterval => HeartbeatTimeout / 2;

    /// <summary>Offline, with every held task moved to the hand-back outbox; the caller revokes them once that is durable.</summary>
    private static AgentState GoOffline(AgentState current, string? why, string handBackReason, List<Change> changes) =>
        TakeTasksBack(current, handBackReason, changes) with { Status = AgentStatus.Offline, StatusReason = why };

    /// <summary>Every held task moved to the hand-back outbox; the caller revokes them once that is durable.</summary>
    private static AgentState TakeTasksBack(AgentState current, string handBackReason, List<Change> changes)
    {
        changes.AddRange(current.ActiveTaskIds.Select(t => new Change(AgentEventKind.TaskReleased, handBackReason, t)));
        return current with
        {
            ActiveTaskIds = [],
            HandBacks = [.. current.HandBacks, .. current.ActiveTaskIds.Select(t => new HandBack(t, handBackReason))],
        };
    }

    /// <summary>Memory only, like a reservation: the task's write that let go of it is the durable record.</summary>
    private Task<bool> ReleaseHeldAsync(IReadOnlyList<string> taskIds) =>
        gate.RunAsync(() =>
        {
            var current = state.State;
            var released = taskIds.Where(t => current.ActiveTaskIds.Contains(t, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
            if (current.Registration is null || released.Count == 0)
            {
                return Task.FromResult(false);
            }

            state.State = current with { ActiveTaskIds = [.. current.ActiveTaskIds.Except(released, StringComparer.Ordinal)] };
            return Task.FromResult(true);
        });

    /// <summary>
    /// Under the gate: makes <paramref name="next"/> and its events durable in one write (restoring the previous
    /// state if that fails; the database projects the index row and appends the events to the history in the same
    /// statement), then publishes the events.
    /// </summary>
    private async Task CommitAsync(AgentState next, DateTimeOffset now, IReadOnlyList<Change> changes)
    {
        var count = state.State.EventCount;
        var events = changes.Select(c => new AgentEvent(Id, ++count, now, c.Kind, next.Status, c.Detail, c.TaskId)).ToList();
        await WriteAsync(next with
        {
            Version = state.State.Version + 1, UpdatedAt = now, NewEvents = events, EventCount = count,
            HistoryLimit = settings.Agents.HistoryLimit,
        });
        await PublishAsync(events);
    }

    private async Task WriteAsync(AgentState next)
    {
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
            storedLivenessAt = next.LastSeenAt;
        }
        catch
        {
            state.State = previous;
            throw;
        }
    }

    private ChangeFeed<IAgentWatcher, AgentEvent> Feed => feed ??= new(
        "agent/" + Id, logger, (w, e, p) => w.ChangedAsync(e, p), e => GrainFactory.GetGrain<IAgentWatchHubGrain>(WatchHubs.Of(Id)).PublishAsync(e), e => e.Sequence);

    public Task<WatchPoint> WatchAsync(IAgentWatcher watcher) => Task.FromResult(Feed.Watch(watcher, state.State.EventCount));

    public Task UnwatchAsync(IAgentWatcher watcher)
    {
        Feed.Unwatch(watcher);
        return Task.CompletedTask;
    }

    /// <summary>After the commit: pushed to the agent's watchers and its hub, one-way, never inside a storage write.</summary>
    private Task PublishAsync(IReadOnlyList<AgentEvent> events) => Feed.PublishAsync(events);

    private async Task RevokeAsync(IReadOnlyList<string> taskIds, string reason)
    {
        foreach (var taskId in taskIds)
        {
            await Workers.Notify(w => w.TaskRevoked(taskId, reason));
        }
    }

    /// <summary>
    /// Outside the gate: tells each task grain in the outbox that this agent is gone, then drops the ones told.
    /// A task grain may release the task here while being told, which is why this must not hold the gate.
    /// </summary>
    private async Task HandBackAsync()
    {
        if (handingBack || state.State.HandBacks.Count == 0)
        {
            return;
        }

        handingBack = true;
        try
        {
            var pending = state.State.HandBacks;
            var told = await Task.WhenAll(pending.Select(TellTaskAsync));
            var done = pending.Where((_, i) => told[i]).Select(h => h.TaskId).ToHashSet(StringComparer.Ordinal);
            var tried = pending.Select(h => h.TaskId).ToHashSet(StringComparer.Ordinal);
            await gate.RunAsync(async () =>
            {
                var remaining = new List<HandBack>();
                foreach (var handBack in state.State.HandBacks.Where(h => !done.Contains(h.TaskId)))
                {
                    var next = tried.Contains(handBack.TaskId) ? handBack with { Attempts = handBack.Attempts + 1 } : handBack;
                    if (next.Attempts >= HandBackAttemptLimit)
                    {
                        LogHandBackAbandoned(logger, Id, next.TaskId, next.Attempts);
                        continue;
                    }

                    remaining.Add(next);
                }

                await WriteAsync(state.State with { HandBacks = remaining });
            });
        }
        finally
        {
            handingBack = false;
        }
    }

    private async Task<bool> TellTaskAsync(HandBack handBack)
    {
        try
        {
            await GrainFactory.GetGrain<ITaskGrain>(handBack.TaskId).AgentLostAsync(Id, handBack.Reason);
            return true;
        }
        catch (NoOrgException e) when (e is NotFoundException or InvalidTransitionException)
        {
            return true; // nothing left to hand back: the task is gone or no longer with this agent
        }
        catch (Exception e)
        {
            LogHandBackFailed(logger, Id, handBack.TaskId, e);
            return false;
        }
    }

    /// <summary>The held tasks the index shows finished or held by someone else, and the held tasks the worker does not run.</summary>
    private async Task<(List<string> Gone, List<string> Others)> CheckHeldAsync(IReadOnlyList<string> held, IReadOnlyList<string> running)
    {
        var runs = running.ToHashSet(StringComparer.Ordinal);
        var others = held.Where(t => !runs.Contains(t)).ToList();
        IReadOnlyList<TaskHolding> holdings;
        try
        {
            holdings = await tasks.HoldingsAsync(held);
        }
        catch (Exception e)
        {
            LogTaskReadFailed(logger, Id, "(the held tasks, from the index)", e);
            return ([], others); // nothing is released on a guess; the next connect looks again
        }

        var byId = holdings.ToDictionary(h => h.TaskId, StringComparer.Ordinal);
        var gone = held.Where(t => !byId.TryGetValue(t, out var h) || h.State is TaskState.Completed or TaskState.Failed or TaskState.Cancelled
            || (h.AssignedTo is { } to && to != Id)).ToList();
        return (gone, [.. others.Except(gone, StringComparer.Ordinal)]);
    }

    private async Task<(string TaskId, TaskSnapshot? Snapshot, bool Known)> ReadTaskAsync(string taskId)
    {
        try
        {
            return (taskId, await GrainFactory.GetGrain<ITaskGrain>(taskId).GetAsync(), true);
        }
        catch (Exception e)
        {
            LogTaskReadFailed(logger, Id, taskId, e);
            return (taskId, null, false);
        }
    }

    /// <summary>An unregistered agent keeps its reminder only until its tasks are handed back.</summary>
    private async Task ForgetReminderIfDoneAsync()
    {
        if (state.State.Registration is not null || state.State.HandBacks.Count > 0)
        {
            return;
        }

        await this.UnregisterReminderIfAnyAsync(LivenessReminder);
    }

    private Task RegisterLivenessReminderAsync() => this.RegisterOrUpdateReminder(LivenessReminder, LivenessPeriod, LivenessPeriod);

    /// <summary>Back from a quiet time offline: the liveness reminder and the health monitor run again.</summary>
    private async Task ResumeIfQuietAsync()
    {
        if (state.State is not { Quiet: true, Registration: not null } s || s.Status == AgentStatus.Offline)
        {
            return;
        }

        // Until the flag is cleared, a failure here is retried by the next heartbeat or status change.
        await RegisterLivenessReminderAsync();
        await StartMonitorAsync();
        await gate.RunAsync(async () =>
        {
            if (state.State.Quiet)
            {
                await WriteAsync(state.State with { Quiet = false });
            }
        });
    }

    private async Task StartMonitorAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IAgentHealthGrain>(Id).StartAsync();
        }
        catch (Exception e)
        {
            LogMonitorStartFailed(logger, Id, e);
        }
    }

    /// <summary>
    /// The agent's room, as of now: holds change in memory without a write (see <see cref="TryReserveAsync"/>), so the
    /// time the notice was made, not the last stored change, tells the pools whether it knows of their placements.
    /// </summary>
    private async Task KickDispatcherAsync()
    {
        try
        {
            if (state.State is { Registration: { } registration } current)
            {
                await GrainFactory.GetGrain<IDispatcherGrain>(IDispatcherGrain.Key).CapacityAsync(new AgentCapacity(
                    Id, registration.Capabilities, current.ActiveTaskIds.Count, registration.MaxConcurrentTasks,
                    current.Status is AgentStatus.Available or AgentStatus.Busy && current.Health != HealthStatus.Unhealthy,
                    current.Health == HealthStatus.Degraded, clock.GetUtcNow()));
            }
        }
        catch (Exception e)
        {
            LogKickFailed(logger, Id, e);
        }
    }


    private readonly record struct Change(AgentEventKind Kind, string? Detail, string? TaskId = null);



    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: the dispatcher could not be kicked")]
    private static partial void LogKickFailed(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} is unhealthy ({Reason}); {Tasks} task(s) handed back")]
    private static partial void LogHandedBackUnhealthy(ILogger logger, string agentId, string reason, int tasks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: its liveness reminder could not be stored; retrying in a second")]
    private static partial void LogWatchFailed(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: its health monitor could not be started; the liveness reminder retries")]
    private static partial void LogMonitorStartFailed(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: task {TaskId} could not be told it was handed back; it will be retried")]
    private static partial void LogHandBackFailed(ILogger logger, string agentId, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Agent {AgentId}: gave up telling task {TaskId} it was handed back after {Attempts} attempts")]
    private static partial void LogHandBackAbandoned(ILogger logger, string agentId, string taskId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: task {TaskId} could not be read for a reconnecting worker")]
    private static partial void LogTaskReadFailed(ILogger logger, string agentId, string taskId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId}: delivery of task {TaskId} ignored, the agent does not hold it")]
    private static partial void LogDeliveryIgnored(ILogger logger, string agentId, string taskId);
}
