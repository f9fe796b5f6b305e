using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Dispatch;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Health;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Reminders;
using NoOrg.Grains.Watching;

namespace NoOrg.Grains.Tasks;

/// <summary>
/// One task and its lifecycle. Every change runs the same pipeline: validate, build the new state with its history
/// entry and its event in the outbox, write it (one statement: the database projects the task index and appends the
/// history entry in that same write), then tell other grains (agents, dependents, the dispatcher). The event goes
/// out through the outbox (streams and webhook subscriptions) after the write, at least once, and so do the notices to dependents when it finishes. A failed validation or a refused agent
/// changes nothing.
/// </summary>
public sealed partial class TaskGrain(
    [PersistentState(TaskGrain.StateName, StorageNames.Default)] IPersistentState<TaskGrainState> state,
    ITaskIndex index,
    OutboxRelayFactory outboxes,
    WebhookDirectory webhooks,
    NoOrgSettings settings,
    TimeProvider clock,
    ILogger<TaskGrain> logger) : Grain, ITaskGrain, ITaskDueGrain, ITaskAttemptGrain, IRemindable
{

    /// <summary>The state name (unique to this grain type): the outbox sweeper maps stored rows back to task grains by it.</summary>
    internal const string StateName = "task";

    /// <summary>Outbox payload type of task events (<see cref="TaskEvent"/> in JSON).</summary>
    internal const string EventPayload = "noorg.tasks.event";

    /// <summary>Outbox message type that tells a dependent this task finished (<see cref="DependencyNotice"/> in JSON).</summary>
    internal const string DependencyFinishedType = "task.dependency-finished";
    internal const int MaxDependencyDepth = 64;
    private const int MaxHistoryPage = 1000;

    // Grain timers take due times up to ~49 days; a longer wait is armed again when the timer fires.
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(1);

    // A due timer may fire a hair before its due time (timer resolution); that counts as on time.
    private static readonly TimeSpan DueTolerance = TimeSpan.FromMilliseconds(100);

    private IGrainTimer? wakeUp;
    private IGrainTimer? dueTimer;
    private OutboxRelay? relay;

    /// <summary>The dispatcher's note that the next write stores (<see cref="NoteUnassignableAsync"/>); null when none waits.</summary>
    private TaskEvent? unstoredNote;
    private ChangeFeed<ITaskWatcher, TaskEvent>? feed;

    private string Id => this.GetPrimaryKeyString();

    private OutboxRelay Outbox => relay ??= outboxes.Create(
        this, StateName, () => state.State.Outbox, outbox => state.State = state.State with { Outbox = outbox });

    private ChangeFeed<ITaskWatcher, TaskEvent> Feed => feed ??= new(
        "task/" + Id, logger, (w, e, p) => w.ChangedAsync(e, p), e => GrainFactory.GetGrain<ITaskWatchHubGrain>(WatchHubs.Of(Id)).PublishAsync(e), e => e.Sequence);

    public Task<WatchPoint> WatchAsync(ITaskWatcher watcher) => Task.FromResult(Feed.Watch(watcher, state.State.HistoryTotal));

    public Task UnwatchAsync(ITaskWatcher watcher)
    {
        Feed.Unwatch(watcher);
        return Task.CompletedTask;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Task is { } task)
        {
            ScheduleWakeUp(task);
            ScheduleDue(task);
        }

        Outbox.Activated(state.RecordExists);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (unstoredNote is not null && state.State.Task is not null)
        {
            try
            {
                await WriteAsync(state.State);
            }
            catch (Exception e)
            {
                LogNoteLost(logger, e, Id); // only why the task waited; the pool notes it again
            }
        }

        await Outbox.DeactivatingAsync();
    }

    public Task<int> DeliverOutboxAsync() => Outbox.DeliverDueAsync();

    public Task<IReadOnlyList<OutboxEntryView>> GetOutboxAsync() => Outbox.ViewAsync();

    public Task<int> RetryDeadLettersAsync(string? messageId) => Outbox.RetryDeadAsync(messageId);

    /// <summary>
    /// Dependency notices arrive through the finished task's outbox, at least once. No inbox is needed: handling is
    /// idempotent by state (a satisfied dependency is no longer waited on; a finished task ignores notices).
    /// </summary>
    public Task ReceiveAsync(OutboxDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.Message.Type != DependencyFinishedType
            || System.Text.Json.JsonSerializer.Deserialize<DependencyNotice>(delivery.Message.PayloadJson, OutboxRegistry.PayloadJson) is not { } notice)
        {
            throw Invalid($"message {delivery.Message.Id}: a task grain accepts only {DependencyFinishedType} messages (got {delivery.Message.Type})");
        }

        return DependencyFinishedAsync(notice.TaskId, notice.Outcome);
    }

    public Task<TaskSnapshot?> GetAsync() => Task.FromResult(state.State.Task);

    public async Task<TaskSnapshot> CreateAsync(TaskSpec spec, string actor)
    {
        if (spec is null)
        {
            throw new ValidationException($"Task {Id} cannot be created: spec: required.");
        }

        var hash = TaskSpecRules.Hash(spec);
        if (state.State.Task is { } existing)
        {
            return state.State.SpecHash == hash
                ? existing
                : throw new ConflictException(
                    $"Task {Id} already exists with a different spec: a repeated create must send the same spec, or use another idempotency key.");
        }

        var now = Now();
        var problems = TaskSpecRules.Problems(Id, spec, settings.Tasks, now);
        if (TaskSpecRules.TextProblem("actor", actor) is { } actorProblem)
        {
            problems.Add(actorProblem);
        }

        var dependsOn = (spec.DependsOn ?? []).Distinct(StringComparer.Ordinal).ToArray();
        if (dependsOn.Contains(Id, StringComparer.Ordinal))
        {
            problems.Add($"dependsOn: a task cannot depend on itself ({Id})");
        }

        if (spec.ParentId == Id)
        {
            problems.Add($"parentId: a task cannot be its own parent ({Id})");
        }

        ThrowIfAny(problems);
        await CheckDependenciesAsync(dependsOn);
        if (spec.ParentId is { } parentId && await GrainFactory.GetGrain<ITaskGrain>(parentId).GetAsync() is null)
        {
            throw Invalid($"parentId: task {parentId} does not exist");
        }

        var waitingOn = await RegisterWithDependenciesAsync(dependsOn);
        var task = new TaskSnapshot(
            Id, spec, TaskState.Pending, AssignedTo: null, Attempt: 0, CreatedAt: now, UpdatedAt: now, StartedAt: null,
            FinishedAt: null, NextAttemptAt: null, ResultJson: null, Error: null, ProcessingTime: null, waitingOn,
            UnassignableReason: null, Version: 1, TraceParent: NoOrgTracing.CurrentTraceParent());
        var created = TaskChanges.Created(task, state.State.HistoryTotal + 1, actor);
        return await ChangeAsync(null, created.Next, created.Event, hash);
    }

    public async Task<TaskSnapshot> UpdateAsync(TaskUpdate update, string actor)
    {
        var current = Require();
        TaskTransition.Update.Ensure(current);
        if (update is null)
        {
            throw Invalid("update: required");
        }

        var now = Now();
        var problems = TaskSpecRules.UpdateProblems(update, now);
        var spec = current.Spec;
        var metadata = spec.Metadata ?? new Dictionary<string, string>();
        if (update.Metadata is { Count: > 0 })
        {
            var merged = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            foreach (var (key, value) in update.Metadata)
            {
                merged[key] = value;
            }

            problems.AddRange(TaskSpecRules.MetadataProblems(merged));
            metadata = merged;
        }

        if (TaskSpecRules.TextProblem("actor", actor) is { } actorProblem)
        {
            problems.Add(actorProblem);
        }

        ThrowIfAny(problems);
        var changed = new List<string>();
        var next = spec with
        {
            Name = Changed(update.Name, spec.Name, "name", changed),
            Description = Changed(update.Description, spec.Description, "description", changed),
            Priority = update.Priority is { } p && p != spec.Priority ? Note(p, "priority", changed) : spec.Priority,
            Deadline = update.Deadline is { } d && d != spec.Deadline ? Note<DateTimeOffset?>(d, "deadline", changed) : spec.Deadline,
            Metadata = update.Metadata is { Count: > 0 } && !SameMetadata(metadata, spec.Metadata) ? Note(metadata, "metadata", changed) : spec.Metadata,
        };
        if (changed.Count == 0)
        {
            return current;
        }

        return await ChangeAsync(current, new TaskChanges(current, now, state.State.HistoryTotal + 1).Update(next, changed, actor));
    }

    public async Task<TaskSnapshot> AssignAsync(string agentId, string actor)
    {
        var current = Require();
        TaskTransition.Assign.Ensure(current);
        if (current.WaitingOn.Count > 0)
        {
            throw new InvalidTransitionException(
                $"Task {Id} is Pending but waiting on {string.Join(", ", current.WaitingOn)}: it can be assigned once they complete.");
        }

        ThrowIfAny(Problems(("agentId", agentId), ("actor", actor)));
        await ReserveAsync(agentId, current);
        return await ChangeReservedAsync(agentId, current, Changes(current).Assign(agentId, actor));
    }

    public async Task<TaskSnapshot> ReassignAsync(string agentId, string reason, string actor)
    {
        var current = Require();
        TaskTransition.Reassign.Ensure(current);
        ThrowIfAny(Problems(("agentId", agentId), ("reason", reason), ("actor", actor)));
        if (agentId == current.AssignedTo)
        {
            throw Invalid($"agentId: the task is already held by {agentId}; reassign needs another agent");
        }

        await ReserveAsync(agentId, current);
        return await ChangeReservedAsync(agentId, current, Changes(current).Reassign(agentId, reason, actor));
    }

    public async Task<TaskSnapshot> UnassignAsync(string reason, string actor)
    {
        var current = Require();
        TaskTransition.Unassign.Ensure(current);
        ThrowIfAny(Problems(("reason", reason), ("actor", actor)));
        return await ChangeAsync(current, Changes(current).Unassign(reason, actor));
    }

    /// <summary>
    /// A holder's report that the task's state refuses is checked once more against storage. After a silo is lost, an
    /// activation can outlive a newer write made by another activation of the same task: its memory is stale, and as
    /// it refuses before writing, no version check would ever tell it, so it would refuse the holder for ever (seen
    /// as a task left "assigned, attempt 0" whose worker had started and finished it).
    /// </summary>
    private async Task<TaskSnapshot> CheckedAgainstStorageAsync(Func<Task<TaskSnapshot>> report)
    {
        try
        {
            return await report();
        }
        catch (InvalidTransitionException)
        {
            var (known, held) = (state.Etag, state.State);
            await state.ReadStateAsync();
            if (state.Etag == known)
            {
                state.State = held; // storage has nothing newer: keep what memory holds (an unstored note)
                throw;
            }

            unstoredNote = null; // storage is newer than this activation's memory, so the note went with it

            LogStaleState(logger, Id);
            return await report();
        }
    }

    public Task<TaskSnapshot> StartAsync(string agentId) => CheckedAgainstStorageAsync(() => StartCoreAsync(agentId));

    private async Task<TaskSnapshot> StartCoreAsync(string agentId)
    {
        var current = Require();
        ThrowIfAny(Problems(("agentId", agentId)));
        TaskTransition.Start.Ensure(current);
        TaskTransition.Start.EnsureHolder(current, agentId);
        return await ChangeAsync(current, Changes(current).Start(agentId));
    }

    public Task<TaskSnapshot> StartAttemptAsync(string agentId, int assignedAttempt) => CheckedAgainstStorageAsync(() =>
    {
        var current = Require();
        if (AttemptRule.IsRepeatedStart(current, agentId, assignedAttempt))
        {
            return Task.FromResult(current);
        }

        AttemptRule.EnsureCurrent(current, agentId, assignedAttempt, "start");
        return StartCoreAsync(agentId);
    });

    public Task<TaskSnapshot> CompleteAttemptAsync(string agentId, int attempt, string resultJson, TimeSpan? processingTime) =>
        CheckedAgainstStorageAsync(() =>
        {
            AttemptRule.EnsureCurrent(Require(), agentId, attempt, "completion");
            return CompleteCoreAsync(agentId, resultJson, processingTime);
        });

    public Task<TaskSnapshot> FailAttemptAsync(string agentId, int attempt, string error) => CheckedAgainstStorageAsync(() =>
    {
        AttemptRule.EnsureCurrent(Require(), agentId, attempt, "failure");
        return FailCoreAsync(agentId, error);
    });

    public async Task<TaskSnapshot> HandBackAttemptAsync(string agentId, int attempt, string reason, string actor)
    {
        var current = Require();
        if (current.IsTerminal || !string.Equals(current.AssignedTo, agentId, StringComparison.Ordinal))
        {
            return current; // the agent holds it no longer (a repeated hand-back, or it moved on): nothing to give back
        }

        AttemptRule.EnsureCurrent(current, agentId, attempt, "hand-back");
        return await UnassignAsync(reason, actor);
    }

    public Task<TaskSnapshot> CompleteAsync(string agentId, string resultJson, TimeSpan? processingTime) => CheckedAgainstStorageAsync(() => CompleteCoreAsync(agentId, resultJson, processingTime));

    private async Task<TaskSnapshot> CompleteCoreAsync(string agentId, string resultJson, TimeSpan? processingTime)
    {
        var current = Require();
        if (RepeatedReport.OfCompletion(current, agentId, resultJson))
        {
            return current; // a repeated completion by the same agent: already done, nothing to record twice
        }

        ThrowIfAny(Problems(("agentId", agentId)));
        TaskTransition.Complete.Ensure(current);
        TaskTransition.Complete.EnsureHolder(current, agentId);
        var problems = new List<string>();
        if (TaskSpecRules.JsonProblem("resultJson", resultJson, settings.Tasks.MaxInputBytes) is { } resultProblem)
        {
            problems.Add(resultProblem);
        }

        if (processingTime < TimeSpan.Zero)
        {
            problems.Add($"processingTime: must be 0 or more when set (got {processingTime})");
        }

        ThrowIfAny(problems);
        return await ChangeAsync(current, Changes(current).Complete(agentId, resultJson, processingTime));
    }

    public Task<TaskSnapshot> FailAsync(string agentId, string error) => CheckedAgainstStorageAsync(() => FailCoreAsync(agentId, error));

    private async Task<TaskSnapshot> FailCoreAsync(string agentId, string error)
    {
        var current = Require();
        ThrowIfAny(Problems(("agentId", agentId)));
        if (!string.IsNullOrWhiteSpace(error) && RepeatedReport.OfFailure(current, agentId, error))
        {
            return current; // a repeated failure report by the same agent: already recorded
        }

        TaskTransition.Fail.Ensure(current);
        TaskTransition.Fail.EnsureHolder(current, agentId);
        if ((string.IsNullOrWhiteSpace(error) ? "error: required; say what went wrong" : InputText.TextProblem("error", error)) is { } problem)
        {
            throw Invalid(problem);
        }

        return await ChangeAsync(current, Changes(current).Fail(agentId, TaskSpecRules.Shorten(error, TaskSpecRules.MaxErrorLength)));
    }

    public async Task<TaskSnapshot> CancelAsync(string reason, string actor)
    {
        var current = Require();
        ThrowIfAny(Problems(("reason", reason), ("actor", actor)));
        if (current.State == TaskState.Cancelled)
        {
            return current; // a cancel repeated (a client retrying after a lost answer) has nothing left to do
        }

        TaskTransition.Cancel.Ensure(current);
        return await ChangeAsync(current, Changes(current).Cancel(reason, actor));
    }

    public async Task<Page<TaskEvent>> GetHistoryAsync(int skip, int take)
    {
        Require();
        if (skip < 0 || take is < 1 or > MaxHistoryPage)
        {
            throw Invalid($"skip must be 0 or more and take 1 to {MaxHistoryPage} (got skip {skip}, take {take})");
        }

        // Skip counts from the first entry ever (sequence 1); entries dropped by the history limit are passed over,
        // and the page says where its items really start.
        var items = await index.HistoryAsync(Id, skip, take);
        if (unstoredNote is { } note && note.Sequence > skip && items.Count < take)
        {
            items = [.. items, note]; // the newest entry, not stored yet
        }

        var start = items.Count > 0 ? (int)items[0].Sequence - 1 : skip;
        return new Page<TaskEvent>(items, state.State.HistoryTotal, start);
    }

    public async Task<TaskState> AddDependentAsync(string dependentId)
    {
        var current = Require();
        ThrowIfAny(Problems(("dependentId", dependentId)));
        if (!current.IsTerminal && !state.State.Dependents.Contains(dependentId, StringComparer.Ordinal))
        {
            // Not a change of the task itself: no version, history or projection, only who to tell later.
            var before = state.State;
            state.State = before with { Dependents = [.. before.Dependents, dependentId] };
            await WriteAsync(before);
        }

        return current.State;
    }

    public async Task DependencyFinishedAsync(string dependencyId, TaskState outcome)
    {
        if (state.State.Task is not { IsTerminal: false } current)
        {
            return; // unknown or already finished
        }

        if (Changes(current).DependencyFinished(dependencyId, outcome) is { } change)
        {
            await ChangeAsync(current, change);
        }
    }

    public async Task AgentLostAsync(string agentId, string reason)
    {
        if (state.State.Task is not { State: TaskState.Assigned or TaskState.Running } current || current.AssignedTo != agentId)
        {
            return; // the agent's view is stale: it no longer holds this task
        }

        await ChangeAsync(current, Changes(current).AgentLost(agentId, reason));
    }

    /// <summary>
    /// Why dispatch cannot place the task is not a change of the task, only why it still waits, so it costs no write
    /// of its own: the reason is held in memory, pushed to watchers, and stored (with its history entry) by the task's
    /// next write or when the grain deactivates. A silo lost before that loses the note; the pool that rebuilds its
    /// queue notes it again. A second reason while one is unstored, or a reason some webhook subscribes to, is written
    /// at once, so at most one note waits and webhooks still get every note through the outbox.
    /// </summary>
    public async Task NoteUnassignableAsync(string reason)
    {
        if (state.State.Task is not { State: TaskState.Pending } current || string.IsNullOrWhiteSpace(reason) || current.UnassignableReason == reason)
        {
            return; // dispatch repeats itself every pass: only a new reason is worth noting
        }

        var change = Changes(current).Unassignable(reason);
        if (unstoredNote is not null || (await webhooks.MatchingAsync(EventType(TaskAction.Unassignable))).Count > 0)
        {
            await ChangeAsync(current, change);
            return;
        }

        var note = change.Event;
        state.State = state.State with { Task = current with { UnassignableReason = reason }, HistoryTotal = note.Sequence };
        unstoredNote = note;
        await Feed.PublishAsync([note]);
    }

    public async Task<bool> PurgeAsync()
    {
        if (state.State.Task is not { } current)
        {
            return false;
        }

        if (!current.IsTerminal || await Outbox.HasPendingAsync())
        {
            return false; // still running, or its events are not all out yet (the next clean-up comes back)
        }

        await state.ClearStateAsync(); // the database removes the index row in the same statement
        DeactivateOnIdle();
        return true;
    }

    /// <summary>
    /// Its time-out or deadline came: the due timer of this activation, or a due shard for a task whose activation
    /// was lost (<see cref="TaskDueShardGrain"/>). Idempotent: a task with nothing due yet waits for its due time.
    /// </summary>
    public async Task CheckDueAsync()
    {
        if (state.State.Task is not { } current)
        {
            return;
        }

        if (Changes(current).Due(DueTolerance) is { } change)
        {
            await ChangeAsync(current, change);
            return;
        }

        var due = StoredDueAt(current);
        if (state.State.DueAt != due)
        {
            // Written before due times were stored (a reminder of that version woke it): store it, so the shards
            // find the task from now on.
            var before = state.State;
            state.State = before with { DueAt = due };
            await WriteAsync(before);
        }

        ScheduleDue(current); // early, or moved later by an update
    }

    /// <summary>Reminders of an earlier version (one per time-out attempt, one per deadline): removed, and the due time checked.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        try
        {
            await this.UnregisterReminderIfAnyAsync(reminderName);
        }
        catch (Exception e)
        {
            LogDisarmFailed(logger, e, Id, reminderName); // it fires again and is removed then
        }

        await CheckDueAsync();
    }

    private async Task CheckDependenciesAsync(IReadOnlyList<string> dependsOn)
    {
        if (dependsOn.Count == 0)
        {
            return;
        }

        var found = await LoadAsync(dependsOn);
        var missing = dependsOn.Where(d => found[d] is null).ToArray();
        if (missing.Length > 0)
        {
            throw Invalid($"dependsOn: unknown task(s) {string.Join(", ", missing)}; every dependency must exist first");
        }

        // Walk the graph upwards through the grains; reaching this task again would close a cycle.
        var visited = new HashSet<string>(dependsOn, StringComparer.Ordinal);
        var level = found.Values.Select(t => t!).ToArray();
        for (var depth = 1; level.Length > 0; depth++)
        {
            var upstream = level.SelectMany(t => t.Spec.DependsOn ?? []).Distinct(StringComparer.Ordinal).ToArray();
            if (upstream.Contains(Id, StringComparer.Ordinal))
            {
                var via = level.First(t => (t.Spec.DependsOn ?? []).Contains(Id, StringComparer.Ordinal)).Id;
                throw Invalid($"dependsOn: depending on these tasks would close a cycle ({via} already depends on {Id}, directly or through others)");
            }

            var next = upstream.Where(visited.Add).ToArray();
            if (next.Length > 0 && depth >= MaxDependencyDepth)
            {
                throw Invalid($"dependsOn: the dependency chain is deeper than {MaxDependencyDepth} levels");
            }

            level = [.. (await LoadAsync(next)).Values.OfType<TaskSnapshot>()];
        }

        var finished = found.Values.Where(t => t!.State is TaskState.Failed or TaskState.Cancelled).Select(t => $"{t!.Id} ({t.State})").ToArray();
        if (finished.Length > 0)
        {
            throw Invalid($"dependsOn: {string.Join(", ", finished)} can never complete");
        }
    }

    private async Task<Dictionary<string, TaskSnapshot?>> LoadAsync(IReadOnlyList<string> ids)
    {
        var snapshots = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ITaskGrain>(id).GetAsync()));
        return ids.Zip(snapshots).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
    }

    /// <summary>Tells each dependency about this task before it exists, so no completion can slip by unnoticed.</summary>
    private async Task<IReadOnlyList<string>> RegisterWithDependenciesAsync(IReadOnlyList<string> dependsOn)
    {
        if (dependsOn.Count == 0)
        {
            return [];
        }

        var states = new TaskState[dependsOn.Count];
        try
        {
            states = await Task.WhenAll(dependsOn.Select(d => GrainFactory.GetGrain<ITaskGrain>(d).AddDependentAsync(Id)));
        }
        catch (NotFoundException e)
        {
            throw new ValidationException($"Task {Id} cannot be created: dependsOn: {e.Message}", e);
        }

        var finished = dependsOn.Zip(states).Where(p => p.Second is TaskState.Failed or TaskState.Cancelled).Select(p => $"{p.First} ({p.Second})").ToArray();
        if (finished.Length > 0)
        {
            throw Invalid($"dependsOn: {string.Join(", ", finished)} can never complete");
        }

        return [.. dependsOn.Zip(states).Where(p => p.Second != TaskState.Completed).Select(p => p.First)];
    }

    private async Task ReserveAsync(string agentId, TaskSnapshot current)
    {
        var taken = await GrainFactory.GetGrain<IAgentGrain>(agentId).TryReserveAsync(Id, current.Spec.RequiredCapabilities ?? []);
        if (!taken)
        {
            throw new ConflictException(
                $"agent {agentId} cannot take task {Id}: not registered, not accepting work, missing capabilities or at capacity");
        }
    }

    /// <summary>Like <see cref="ChangeAsync"/>, but gives the agent's reservation back if the change cannot be stored.</summary>
    private Task<TaskSnapshot> ChangeReservedAsync(string agentId, TaskSnapshot current, TaskChange change) =>
        ChangeReservedAsync(agentId, current, change.Next, change.Event);

    private async Task<TaskSnapshot> ChangeReservedAsync(string agentId, TaskSnapshot current, TaskSnapshot next, TaskEvent change)
    {
        try
        {
            await WriteChangeAsync(next, change, null);
        }
        catch
        {
            await ReleaseAsync(agentId);
            throw;
        }

        await FollowUpAsync(current, next, change);
        return next;
    }

    /// <summary>The change pipeline: write, project, publish, then the effects on other grains.</summary>
    private Task<TaskSnapshot> ChangeAsync(TaskSnapshot current, TaskChange change) => ChangeAsync(current, change.Next, change.Event);

    private async Task<TaskSnapshot> ChangeAsync(TaskSnapshot? current, TaskSnapshot next, TaskEvent change, string? specHash = null)
    {
        if (next.State != TaskState.Pending && next.UnassignableReason is not null)
        {
            next = next with { UnassignableReason = null }; // why nobody takes it means nothing once it is not waiting
        }

        await WriteChangeAsync(next, change, specHash);
        await FollowUpAsync(current, next, change);
        return next;
    }

    private async Task WriteChangeAsync(TaskSnapshot next, TaskEvent change, string? specHash)
    {
        var type = EventType(change.Action);
        var message = new OutboxMessage(
            $"task:{Id}:{change.Sequence}", type, "task/" + Id, EventPayload, OutboxTargets.Payload(change), change.At);
        // Watchers are pushed to after the write (below); only what must not be lost (webhooks) goes through the outbox.
        OutboxTarget[] targets = [.. (await webhooks.MatchingAsync(type)).Select(OutboxTarget.Webhook)];

        var before = state.State;
        var outbox = before.Outbox.Add(message, targets);
        if (next.IsTerminal && before.Task?.IsTerminal != true && before.Dependents.Count > 0)
        {
            // Every dependent is told, at least once, even across a crash: the notice is written with the change.
            var notice = new OutboxMessage($"task:{Id}:finished", DependencyFinishedType, "task/" + Id, DependencyFinishedType,
                OutboxTargets.Payload(new DependencyNotice(Id, next.State)), change.At);
            outbox = outbox.Add(notice, before.Dependents.Select(d => OutboxTarget.Grain(GrainFactory.GetGrain<ITaskGrain>(d).GetGrainId())));
        }

        state.State = before with
        {
            Task = next, NewEvents = [change], HistoryTotal = before.HistoryTotal + 1, HistoryLimit = settings.Tasks.HistoryLimit,
            SpecHash = specHash ?? before.SpecHash, Outbox = outbox, DueAt = StoredDueAt(next),
        };
        await WriteAsync(before);
        ScheduleDue(next);
        TaskMetrics.Changed(before.Task, next, change);
        await Feed.PublishAsync([change]);
    }

    private sealed record DependencyNotice(string TaskId, TaskState Outcome);

    /// <summary>The event type webhooks subscribe to: <c>task.</c> and the action in kebab case (<c>task.dependency-satisfied</c>).</summary>
    internal static string EventType(TaskAction action) => OutboxEventTypes.For("task", action);

    private async Task WriteAsync(TaskGrainState before)
    {
        if (unstoredNote is { } note)
        {
            state.State = state.State with { NewEvents = [note, .. state.State.NewEvents.Where(e => e.Sequence != note.Sequence)] };
        }

        try
        {
            await state.WriteStateAsync();
            unstoredNote = null;
        }
        catch
        {
            // Nothing changed: forget the attempt, and reload from storage next time in case the ETag is stale.
            state.State = before;
            DeactivateOnIdle();
            throw;
        }

        Outbox.Written();
    }

    /// <summary>
    /// Whenever a task leaves an agent (finished, unassigned, reassigned, timed out, or the agent was lost) that
    /// agent is told to release it; releasing is idempotent on the agent, and the agent grain is reentrant, so an
    /// agent that reported its own loss is not deadlocked by the call back.
    /// </summary>
    private async Task FollowUpAsync(TaskSnapshot? before, TaskSnapshot after, TaskEvent change)
    {
        var holderBefore = before is null ? null : TaskChanges.Holder(before);
        var holderAfter = TaskChanges.Holder(after);
        if (holderAfter is not null && holderAfter != holderBefore)
        {
            await DeliverAsync(holderAfter, after);
        }

        if (holderBefore is not null && holderBefore != holderAfter)
        {
            // The holder finishing its own task releases it; anyone else taking it away revokes it, so the
            // worker stops spending effort on a task whose result would be refused.
            if (change.Actor == holderBefore)
            {
                await ReleaseAsync(holderBefore);
            }
            else
            {
                await RevokeAsync(holderBefore, $"{change.Action}: {change.Reason ?? "by " + change.Actor}");
            }
        }

        if (before?.State == TaskState.Running && after.State != TaskState.Running)
        {
            await ReportOutcomeAsync(before, after, change);
        }

        ScheduleWakeUp(after);
        var now = Now();
        if (after.IsReady(now) && before?.IsReady(now) != true)
        {
            await KickDispatcherAsync();
        }
    }

    private async Task DeliverAsync(string agentId, TaskSnapshot task)
    {
        try
        {
            await GrainFactory.GetGrain<IAgentGrain>(agentId).DeliverAsync(task);
        }
        catch (Exception e)
        {
            LogAgentCallFailed(logger, e, Id, "deliver to", agentId);
        }
    }

    /// <summary>
    /// Tells the agent's health monitor how a running attempt ended (after the change is durable). Best effort: a
    /// report lost with a silo costs one sample of a statistical window, never a task.
    /// </summary>
    private async Task ReportOutcomeAsync(TaskSnapshot before, TaskSnapshot after, TaskEvent change)
    {
        TaskOutcomeKind? kind = change.Action switch
        {
            TaskAction.Completed => TaskOutcomeKind.Succeeded,
            TaskAction.Failed => TaskOutcomeKind.Failed,
            TaskAction.TimedOut => TaskOutcomeKind.TimedOut,
            TaskAction.AgentLost => TaskOutcomeKind.Lost,
            _ => null,
        };
        if (kind is null || before.AssignedTo is not { } agentId)
        {
            return;
        }

        var duration = kind == TaskOutcomeKind.Succeeded ? after.ProcessingTime : change.At - (before.StartedAt ?? change.At);
        try
        {
            await GrainFactory.GetGrain<IAgentHealthGrain>(agentId).RecordOutcomeAsync(new TaskOutcome(Id, before.Attempt, kind.Value, change.At, duration));
        }
        catch (Exception e)
        {
            LogAgentCallFailed(logger, e, Id, "report the outcome to the health monitor of", agentId);
        }
    }

    private async Task ReleaseAsync(string agentId)
    {
        try
        {
            await GrainFactory.GetGrain<IAgentGrain>(agentId).ReleaseAsync(Id);
        }
        catch (Exception e)
        {
            LogAgentCallFailed(logger, e, Id, "release from", agentId);
        }
    }

    private async Task RevokeAsync(string agentId, string reason)
    {
        try
        {
            await GrainFactory.GetGrain<IAgentGrain>(agentId).RevokeAsync(Id, reason);
        }
        catch (Exception e)
        {
            LogAgentCallFailed(logger, e, Id, "revoke from", agentId);
        }
    }

    /// <summary>Puts the ready task in its pool's queue (one-way): the pool places it, or says why it waits.</summary>
    private async Task KickDispatcherAsync()
    {
        if (state.State.Task is not { State: TaskState.Pending } task)
        {
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IPoolDispatcherGrain>(DispatchPool.KeyOf(task.Spec.RequiredCapabilities))
                .EnqueueAsync(new QueuedTask(Id, task.Spec.Priority, task.CreatedAt, task.TraceParent));
        }
        catch (Exception e)
        {
            LogKickFailed(logger, e, Id);
        }
    }

    /// <summary>
    /// A pending task waiting out its back-off wakes the dispatcher when the wait is over. A timer is enough: after a
    /// silo loss the dispatcher's own periodic sweep finds the task.
    /// </summary>
    private void ScheduleWakeUp(TaskSnapshot task)
    {
        wakeUp?.Dispose();
        wakeUp = null;
        if (task is { State: TaskState.Pending, WaitingOn.Count: 0, NextAttemptAt: { } at })
        {
            var due = at - clock.GetUtcNow();
            wakeUp = this.RegisterGrainTimer(
                _ => WakeAsync(),
                new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
    }

    /// <summary>A timer can fire a little early: one that finds the back-off not yet over waits out the rest.</summary>
    private Task WakeAsync()
    {
        if (state.State.Task is { NextAttemptAt: not null } task && !task.IsReady(Now()))
        {
            ScheduleWakeUp(task);
            return Task.CompletedTask;
        }

        return KickDispatcherAsync();
    }

    /// <summary>The due time as stored (UTC, so the embedded database's text times sort as time).</summary>
    private static DateTimeOffset? StoredDueAt(TaskSnapshot task) => TaskChanges.DueAt(task)?.ToUniversalTime();

    /// <summary>
    /// While the task is active its own timer fires at the due time; it does not keep the grain alive. A task whose
    /// activation goes (idle, or its silo lost) is woken by a due shard from the stored due time instead.
    /// </summary>
    private void ScheduleDue(TaskSnapshot task)
    {
        dueTimer?.Dispose();
        dueTimer = null;
        if (TaskChanges.DueAt(task) is { } at)
        {
            var wait = at - clock.GetUtcNow();
            wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxTimerDue ? MaxTimerDue : wait;
            dueTimer = this.RegisterGrainTimer(_ => CheckDueAsync(), new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan));
        }
    }

    private TaskSnapshot Require() =>
        state.State.Task ?? throw NotFoundException.ForTask(Id);

    /// <summary>The decisions for a change of <paramref name="current"/> made now, numbered as the next history entry.</summary>
    private TaskChanges Changes(TaskSnapshot current) => new(current, Now(), state.State.HistoryTotal + 1);

    /// <summary>The clock, to the microsecond: what the databases keep, so the index and the state agree exactly.</summary>
    private DateTimeOffset Now()
    {
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
    }


    private static List<string> Problems(params (string Field, string? Value)[] required) =>
        [.. required.Select(r => TaskSpecRules.TextProblem(r.Field, r.Value)).OfType<string>()];

    private void ThrowIfAny(List<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new ValidationException($"Task {Id}", problems);
        }
    }

    private ValidationException Invalid(string problem) => new($"Task {Id}", [problem]);

    private static T Note<T>(T value, string field, List<string> changed)
    {
        changed.Add(field);
        return value;
    }

    private static string Changed(string? update, string current, string field, List<string> changed) =>
        update is not null && update != current ? Note(update, field, changed) : current;

    private static bool SameMetadata(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string>? b) =>
        b is not null && a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: could not {What} agent {AgentId}")]
    private static partial void LogAgentCallFailed(ILogger logger, Exception exception, string taskId, string what, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: could not wake the dispatcher; its periodic sweep will find the task")]
    private static partial void LogKickFailed(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: the dispatcher's note could not be stored at deactivation")]
    private static partial void LogNoteLost(ILogger logger, Exception exception, string taskId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: reminder {Reminder} could not be removed")]
    private static partial void LogDisarmFailed(ILogger logger, Exception exception, string taskId, string reminder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId}: this activation's state was older than storage's (another activation wrote since); read it again")]
    private static partial void LogStaleState(ILogger logger, string taskId);
}
