using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Reminders;
using NoOrg.Grains.Tasks;
using NoOrg.Grains.Watching;
using Orleans.Configuration;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// The coordinator of one saga. Every decision follows one pipeline: plan the change on a draft (with its log
/// entries, and their events in the outbox), write it, project it, and only then ask step or compensation grains for
/// the side effects the new entries announce. Steps report back through <see cref="ActionFinishedAsync"/>, so no call is held open
/// while a step runs. A reminder, armed while the saga can still make progress, resumes it after a silo loss.
/// </summary>
public sealed partial class SagaGrain(
    [PersistentState(SagaGrain.StateName, StorageNames.Default)] IPersistentState<SagaGrainState> state,
    SagaRegistry registry,
    OutboxRelayFactory outboxes,
    WebhookDirectory webhooks,
    NoOrgSettings settings,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    IOptions<ClusterOptions> cluster,
    Retention.SqlRetentionStore retention,
    ILogger<SagaGrain> logger) : Grain, ISagaGrain, ISagaRemoval, IRemindable
{
    internal const string ResumeReminder = "resume";
    private ChangeFeed<ISagaWatcher, SagaLogEntry>? feed;

    /// <summary>The state name (unique to this grain type): the outbox sweeper maps stored rows back to saga grains by it.</summary>
    internal const string StateName = "saga";

    /// <summary>Outbox payload type of saga events (<see cref="SagaLogEntry"/> in JSON).</summary>
    internal const string EventPayload = "noorg.sagas.event";
    internal const string ScopePrefix = "scope:";
    private const int MaxLogPage = 1000;
    private const int MaxRoundsPerTurn = 64;

    private IGrainTimer? wakeUp;
    private IGrainTimer? resumeOnActivation;
    private bool? reminderArmed;
    private OutboxRelay? relay;

    private string Id => this.GetPrimaryKeyString();

    private OutboxRelay Outbox => relay ??= outboxes.Create(
        this, StateName, () => state.State.Outbox, outbox => state.State = state.State with { Outbox = outbox });

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Definition is not null)
        {
            if (CanProgress(state.State))
            {
                // Resume outside activation: the in-flight attempts are asked again (a no-op where they still run).
                resumeOnActivation = this.RegisterGrainTimer(_ => ResumeAsync(), new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
            }
        }

        Outbox.Activated(state.RecordExists);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Outbox.DeactivatingAsync();

    public Task<int> DeliverOutboxAsync() => Outbox.DeliverDueAsync();

    public Task<IReadOnlyList<OutboxEntryView>> GetOutboxAsync() => Outbox.ViewAsync();

    public Task<int> RetryDeadLettersAsync(string? messageId) => Outbox.RetryDeadAsync(messageId);

    public Task<SagaSnapshot?> GetAsync() => Task.FromResult(state.State.Definition is null ? null : Snapshot(state.State));

    public Task<Page<SagaLogEntry>> GetLogAsync(int skip, int take)
    {
        Require();
        if (skip < 0 || take is < 1 or > MaxLogPage)
        {
            throw new ValidationException($"Saga {Id}: skip must be 0 or more and take 1 to {MaxLogPage} (got skip {skip}, take {take}).");
        }

        var log = state.State.Log;
        return Task.FromResult(new Page<SagaLogEntry>([.. log.Skip(skip).Take(take)], log.Count, skip));
    }

    public async Task<SagaSnapshot> StartAsync(string definition, string inputJson)
    {
        if (state.State.Definition is { } existing)
        {
            return existing == definition && state.State.InputJson == inputJson && !state.State.IsScope
                ? Snapshot(state.State)
                : throw new ConflictException(
                    $"Saga {Id} already exists ({existing}) with a different definition or input: a repeated start must send the same, or use another saga id.");
        }

        ValidateId();
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(definition))
        {
            problems.Add("definition: required");
        }

        if (TaskSpecRules.JsonProblem("input", inputJson, settings.Tasks.MaxInputBytes) is { } inputProblem)
        {
            problems.Add(inputProblem);
        }

        ThrowIfAny(problems);
        var plan = registry.Definition(definition);
        await ArmReminderAsync();
        var now = Now();
        var draft = new Draft(Id, state.State with
        {
            Definition = plan.Name, Status = SagaStatus.Running, InputJson = inputJson, CreatedAt = now,
            Steps = [.. plan.Steps.Select(s => new SagaStepProgress(s.Id, s.Group, s.Compensation is not null, s.Policy, s.CompensationPolicy))],
        }, now);
        draft.Log(SagaLogAction.SagaStarted, detail: $"{plan.Steps.Count} step(s) in {plan.Steps.Select(s => s.Group).Distinct().Count()} group(s)");
        await SaveAsync(draft);
        await AdvanceAsync();
        return Snapshot(state.State);
    }

    public async Task<SagaSnapshot> CancelAsync(string reason)
    {
        var current = Require();
        if (current.IsScope && current.Status == SagaStatus.Running)
        {
            return await AbortAsync(reason);
        }

        if (current.Status != SagaStatus.Running)
        {
            return current.Status == SagaStatus.Compensating
                ? Snapshot(current)
                : throw new InvalidTransitionException(
                    $"Saga {Id} is {current.Status}: only a running saga can be cancelled{(current.Status == SagaStatus.CompensationFailed ? " (use retry to resume its compensation)" : "")}.");
        }

        var draft = new Draft(Id, current, Now());
        draft.State = draft.State with { Status = SagaStatus.Compensating, CancelRequested = true, Error = "cancelled: " + Reason(reason) };
        draft.Log(SagaLogAction.CancelRequested, detail: Reason(reason));
        var running = draft.Steps.Where(s => s.Phase == SagaStepPhase.Running).ToArray();
        foreach (var step in running)
        {
            draft.Set(step with { MayHaveApplied = true });
        }

        await SaveAsync(draft);
        await AbandonAsync(running.Select(s => (s, SagaActionKind.Step)));
        await AdvanceAsync();
        return Snapshot(state.State);
    }

    public async Task<SagaSnapshot> RetryAsync(string reason)
    {
        var current = Require();
        if (current.Status != SagaStatus.CompensationFailed)
        {
            throw new InvalidTransitionException($"Saga {Id} is {current.Status}: only a saga in CompensationFailed can be retried.");
        }

        var draft = new Draft(Id, current, Now());
        foreach (var step in draft.Steps.Where(s => s.Phase == SagaStepPhase.CompensationFailed).ToArray())
        {
            // Attempt numbers keep counting (each attempt's outcome stays recognisable); the policy grants a full set again.
            draft.Set(step with { Phase = SagaStepPhase.Compensating, NextAttemptAt = null, Deadline = null, CompensationRetryBase = step.CompensationAttempt });
        }

        draft.State = draft.State with { Status = SagaStatus.Compensating, Error = null };
        draft.Log(SagaLogAction.RetryRequested, current.FailedStep, detail: Reason(reason));
        await ArmReminderAsync();
        await SaveAsync(draft);
        await AdvanceAsync();
        return Snapshot(state.State);
    }

    public async Task ActionFinishedAsync(string stepId, SagaActionKind kind, SagaActionOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (state.State.Definition is null || state.State.Steps.FirstOrDefault(s => s.StepId == stepId) is not { } step)
        {
            return;
        }

        var draft = new Draft(Id, state.State, Now());
        if (kind == SagaActionKind.Step)
        {
            if (step.Phase != SagaStepPhase.Running || step.Attempt != outcome.Attempt)
            {
                return; // stale: an attempt already decided, or one the coordinator gave up on
            }

            if (outcome.Succeeded)
            {
                draft.Set(step with { Phase = SagaStepPhase.Succeeded, Deadline = null, OutputJson = outcome.OutputJson ?? "null", Error = null });
                draft.Log(SagaLogAction.StepSucceeded, stepId, outcome.Attempt, outcome.OutputJson);
            }
            else
            {
                FailAttempt(draft, step, kind, outcome.Error ?? "failed", retry: state.State.Status == SagaStatus.Running);
            }
        }
        else
        {
            if (step is not { Phase: SagaStepPhase.Compensating, InFlight: true } || step.CompensationAttempt != outcome.Attempt)
            {
                return;
            }

            if (outcome.Succeeded)
            {
                draft.Set(step with { Phase = SagaStepPhase.Compensated, Deadline = null, Error = null });
                draft.Log(SagaLogAction.Compensated, stepId, outcome.Attempt, outcome.OutputJson);
            }
            else
            {
                FailAttempt(draft, step, kind, outcome.Error ?? "failed", retry: true);
            }
        }

        await SaveAsync(draft);
        await AdvanceAsync();
    }

    public async Task<SagaSnapshot> BeginScopeAsync(string name)
    {
        var definition = ScopePrefix + name;
        if (state.State.Definition is { } existing)
        {
            return existing == definition && state.State.IsScope
                ? Snapshot(state.State)
                : throw new ConflictException($"Saga {Id} already exists ({existing}): open a scope under another id.");
        }

        ValidateId();
        if (string.IsNullOrWhiteSpace(name) || name.Length > SagaDefinitionBuilder.MaxIdLength || InputText.NameProblem("name", name) is not null)
        {
            throw new ValidationException($"Saga {Id}: name: required, 1 to {SagaDefinitionBuilder.MaxIdLength} characters, no control characters.");
        }

        var now = Now();
        var draft = new Draft(Id, state.State with { Definition = definition, Status = SagaStatus.Running, IsScope = true, CreatedAt = now }, now);
        draft.Log(SagaLogAction.SagaStarted, detail: "compensation scope");
        await ArmReminderAsync(); // the scope's time-out: a caller that disappears leaves it to the reminder
        await SaveAsync(draft);
        return Snapshot(state.State);
    }

    public async Task<SagaSnapshot> RecordAsync(string stepId, string handler, string argumentsJson)
    {
        var current = RequireOpenScope("record a compensation in");
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(stepId) || stepId.Length > SagaDefinitionBuilder.MaxIdLength || stepId.Contains(':', StringComparison.Ordinal)
            || InputText.NameProblem("stepId", stepId) is not null)
        {
            problems.Add($"stepId: required, 1 to {SagaDefinitionBuilder.MaxIdLength} characters, without ':' or control characters");
        }

        if (TaskSpecRules.JsonProblem("arguments", argumentsJson, settings.Tasks.MaxInputBytes) is { } argumentsProblem)
        {
            problems.Add(argumentsProblem);
        }

        ThrowIfAny(problems);
        if (current.Steps.FirstOrDefault(s => s.StepId == stepId) is { } recorded)
        {
            return recorded.Handler == handler && recorded.ArgumentsJson == argumentsJson
                ? Snapshot(current)
                : throw new ConflictException($"Saga {Id}: step '{stepId}' is already recorded with another compensation or arguments.");
        }

        var compensation = registry.Handler(handler);
        var draft = new Draft(Id, current, Now());
        draft.Add(new SagaStepProgress(stepId, current.Steps.Count, HasCompensation: true, SagaPolicy.DefaultStep, compensation.Policy,
            SagaStepPhase.Succeeded, Attempt: 1, Handler: handler, ArgumentsJson: argumentsJson));
        draft.Log(SagaLogAction.CompensationRecorded, stepId, detail: handler);
        await SaveAsync(draft);
        return Snapshot(state.State);
    }

    public async Task<SagaSnapshot> CommitAsync()
    {
        var current = state.State;
        if (current is { IsScope: true, Status: SagaStatus.Completed })
        {
            return Snapshot(current);
        }

        current = RequireOpenScope("commit");
        var draft = new Draft(Id, current, Now());
        draft.Finish(SagaStatus.Completed, SagaLogAction.Committed, $"{current.Steps.Count} compensation(s) discarded");
        await SaveAsync(draft);
        return Snapshot(state.State);
    }

    public async Task<SagaSnapshot> AbortAsync(string reason)
    {
        var current = state.State;
        if (current is { IsScope: true, Status: not SagaStatus.Running and not SagaStatus.Completed })
        {
            return Snapshot(current); // already aborted
        }

        current = RequireOpenScope("abort");
        await ArmReminderAsync();
        var draft = new Draft(Id, current, Now());
        draft.State = draft.State with { Status = SagaStatus.Compensating, Error = "aborted: " + Reason(reason) };
        draft.Log(SagaLogAction.Aborted, detail: Reason(reason));
        await SaveAsync(draft);
        await AdvanceAsync();
        return Snapshot(state.State);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ResumeReminder && state.State is { IsScope: true, Status: SagaStatus.Running } scope)
        {
            await TimeOutScopeAsync(scope);
            return;
        }

        if (reminderName != ResumeReminder || !CanProgress(state.State))
        {
            await DisarmReminderAsync(reminderName);
            return;
        }

        await ResumeAsync();
    }

    /// <summary>An open scope untouched for the scope time-out is abandoned: it is aborted, its recorded work compensated.</summary>
    private async Task<bool> TimeOutScopeAsync(SagaGrainState scope)
    {
        var timeout = TimeSpan.FromSeconds(settings.Sagas.ScopeTimeoutSeconds);
        if (Now() - scope.UpdatedAt < timeout)
        {
            reminderArmed = true;
            return false;
        }

        LogScopeTimedOut(logger, Id, timeout.TotalSeconds);
        await AbortAsync($"timed out: neither committed nor aborted within {Seconds(timeout)} of its last change (NOORG_SAGAS_SCOPE_TIMEOUT_SECONDS)");
        return true;
    }

    public async Task<bool> ExpireIfAbandonedAsync()
    {
        if (state.State is not { IsScope: true, Status: SagaStatus.Running } scope)
        {
            return false;
        }

        if (await TimeOutScopeAsync(scope))
        {
            return true;
        }

        reminderArmed = null; // a scope from before scopes armed their reminder may have none: look, and arm it
        await ArmReminderAsync();
        return false;
    }

    public async Task<bool> RemoveAsync()
    {
        var current = state.State;
        if (current.Definition is null || !current.IsTerminal || await Outbox.HasPendingAsync()
            || !await retention.DeleteSagaAsync(cluster.Value.ServiceId, Id))
        {
            return false;
        }

        // The rows are gone; the action grains that ran may still be active with the old outcome in memory.
        await Task.WhenAll(current.Steps.SelectMany(s => new[]
        {
            s.Attempt > 0 ? GrainFactory.GetGrain<ISagaStepGrain>(SagaKeys.Action(Id, s.StepId)).AsReference<ISagaActionRemoval>() : null,
            s.CompensationAttempt > 0 ? GrainFactory.GetGrain<ISagaCompensationGrain>(SagaKeys.Action(Id, s.StepId)).AsReference<ISagaActionRemoval>() : null,
        }).OfType<ISagaActionRemoval>().Select(ForgetAsync));
        state.State = new SagaGrainState();
        relay = null;
        DeactivateOnIdle();
        return true;
    }

    private async Task ForgetAsync(ISagaActionRemoval action)
    {
        try
        {
            await action.ForgetAsync();
        }
        catch (Exception e)
        {
            LogForgetFailed(logger, e, Id);
        }
    }

    /// <summary>Asks every in-flight attempt again (its grain reports a stored outcome, or runs an attempt lost with a silo), then advances.</summary>
    private async Task ResumeAsync()
    {
        resumeOnActivation?.Dispose();
        resumeOnActivation = null;
        var current = state.State;
        if (!CanProgress(current))
        {
            return;
        }

        await KickAsync(current.Steps.Where(s => s.InFlight)
            .Select(s => (s, s.Phase == SagaStepPhase.Running ? SagaActionKind.Step : SagaActionKind.Compensation)));
        await AdvanceAsync();
    }

    /// <summary>Takes every decision that is due now (time-outs, next steps, compensations, the end), each durable before its effect.</summary>
    private async Task AdvanceAsync()
    {
        for (var round = 0; round < MaxRoundsPerTurn && CanProgress(state.State); round++)
        {
            var draft = new Draft(Id, state.State, Now());
            var abandoned = new List<(SagaStepProgress, SagaActionKind)>();
            if (draft.State.Status == SagaStatus.Running)
            {
                PlanForward(draft, abandoned);
            }
            else
            {
                PlanCompensation(draft, abandoned);
            }

            if (!draft.Changed)
            {
                break;
            }

            await SaveAsync(draft);
            await AbandonAsync(abandoned);
            await KickAsync(draft.Started);
        }

        ScheduleWakeUp();
        if (!CanProgress(state.State))
        {
            await DisarmReminderAsync(ResumeReminder);
        }
    }

    private void PlanForward(Draft draft, List<(SagaStepProgress, SagaActionKind)> abandoned)
    {
        foreach (var step in draft.Steps.Where(s => s.Phase == SagaStepPhase.Running && s.Deadline <= draft.Now).ToArray())
        {
            FailAttempt(draft, step with { MayHaveApplied = true }, SagaActionKind.Step, $"timed out after {Seconds(step.Policy.Timeout)}", retry: true);
            abandoned.Add((step, SagaActionKind.Step));
        }

        if (draft.Steps.FirstOrDefault(s => s.Phase == SagaStepPhase.Failed) is { } failed)
        {
            draft.State = draft.State with { Status = SagaStatus.Compensating, FailedStep = failed.StepId, Error = failed.Error };
            draft.Log(SagaLogAction.Compensating, failed.StepId, failed.Attempt,
                $"step {failed.StepId} failed for good; compensating the completed steps in reverse order");
            return;
        }

        var open = draft.Steps.Where(s => s.Phase != SagaStepPhase.Succeeded).ToArray();
        if (open.Length == 0)
        {
            draft.Finish(SagaStatus.Completed, SagaLogAction.SagaCompleted, null);
            return;
        }

        var group = open.Min(s => s.Group);
        foreach (var step in open.Where(s => s.Group == group && s.Phase == SagaStepPhase.Pending && !(s.NextAttemptAt > draft.Now)))
        {
            var next = step with
            {
                Phase = SagaStepPhase.Running, Attempt = step.Attempt + 1, Deadline = draft.Now + step.Policy.Timeout, NextAttemptAt = null,
            };
            draft.Start(next, SagaActionKind.Step);
            draft.Log(SagaLogAction.StepStarted, step.StepId, next.Attempt, $"attempt {next.Attempt} of {step.Policy.MaxAttempts}");
        }
    }

    private void PlanCompensation(Draft draft, List<(SagaStepProgress, SagaActionKind)> abandoned)
    {
        foreach (var step in draft.Steps.Where(s => s.InFlight && s.Deadline <= draft.Now).ToArray())
        {
            var kind = step.Phase == SagaStepPhase.Running ? SagaActionKind.Step : SagaActionKind.Compensation;
            var policy = kind == SagaActionKind.Step ? step.Policy : step.CompensationPolicy;
            FailAttempt(draft, kind == SagaActionKind.Step ? step with { MayHaveApplied = true } : step, kind,
                $"timed out after {Seconds(policy.Timeout)}", retry: kind == SagaActionKind.Compensation);
            abandoned.Add((step, kind));
        }

        if (draft.Steps.Any(s => s.Phase == SagaStepPhase.Running))
        {
            return; // a step still running may yet succeed, and then needs compensating too
        }

        var undo = draft.Steps.Where(s => s.Phase is SagaStepPhase.Succeeded or SagaStepPhase.Compensating or SagaStepPhase.CompensationFailed
            || s is { Phase: SagaStepPhase.Failed, MayHaveApplied: true }).ToArray();
        if (undo.Length == 0)
        {
            if (draft.State.CancelRequested)
            {
                draft.Finish(SagaStatus.Cancelled, SagaLogAction.SagaCancelled, null);
            }
            else
            {
                draft.Finish(SagaStatus.Compensated, SagaLogAction.SagaCompensated, null);
            }

            return;
        }

        // The group completed last is compensated first; its steps together, since they ran together.
        var group = undo.Max(s => s.Group);
        foreach (var step in undo.Where(s => s.Group == group))
        {
            var done = step.Phase == SagaStepPhase.Succeeded || step is { Phase: SagaStepPhase.Failed, MayHaveApplied: true };
            if (done && !step.HasCompensation)
            {
                draft.Set(step with { Phase = SagaStepPhase.Compensated });
                draft.Log(SagaLogAction.Compensated, step.StepId, 0, "nothing to undo (no compensation defined)");
            }
            else if (done || (step is { Phase: SagaStepPhase.Compensating, InFlight: false } && !(step.NextAttemptAt > draft.Now)))
            {
                var next = step with
                {
                    Phase = SagaStepPhase.Compensating, CompensationAttempt = step.CompensationAttempt + 1,
                    Deadline = draft.Now + step.CompensationPolicy.Timeout, NextAttemptAt = null,
                };
                draft.Start(next, SagaActionKind.Compensation);
                draft.Log(SagaLogAction.CompensationStarted, step.StepId, next.CompensationAttempt, $"attempt {next.CompensationAttempt}");
            }
        }

        var now = draft.Steps.Where(s => s.Group == group).ToArray();
        if (now.All(s => s.Phase is SagaStepPhase.Compensated or SagaStepPhase.CompensationFailed or SagaStepPhase.Pending
                || s is { Phase: SagaStepPhase.Failed, MayHaveApplied: false })
            && now.FirstOrDefault(s => s.Phase == SagaStepPhase.CompensationFailed) is { } stuck)
        {
            draft.State = draft.State with { Status = SagaStatus.CompensationFailed, FailedStep = stuck.StepId, Error = stuck.Error };
            draft.Log(SagaLogAction.SagaCompensationFailed, stuck.StepId, stuck.CompensationAttempt,
                $"compensation of {stuck.StepId} failed for good: an operator must fix the cause, then retry the saga");
        }
    }

    /// <summary>A failed attempt: wait out the back-off and try again while attempts remain, otherwise failed for good.</summary>
    private static void FailAttempt(Draft draft, SagaStepProgress step, SagaActionKind kind, string error, bool retry)
    {
        var forward = kind == SagaActionKind.Step;
        var policy = forward ? step.Policy : step.CompensationPolicy;
        var attempt = forward ? step.Attempt : step.CompensationAttempt;
        var used = forward ? attempt : attempt - step.CompensationRetryBase;
        var cause = TaskSpecRules.Shorten(error, TaskSpecRules.MaxErrorLength);
        if (retry && used < policy.MaxAttempts)
        {
            var delay = RetryPolicy.Delay(policy.Backoff, Math.Max(1, used));
            draft.Set(step with
            {
                Phase = forward ? SagaStepPhase.Pending : SagaStepPhase.Compensating, Deadline = null, NextAttemptAt = draft.Now + delay, Error = cause,
            });
            draft.Log(forward ? SagaLogAction.StepRetryScheduled : SagaLogAction.CompensationRetryScheduled, step.StepId, attempt,
                $"{cause}; attempt {used} of {policy.MaxAttempts} failed, next in {Seconds(delay)}");
        }
        else
        {
            draft.Set(step with
            {
                Phase = forward ? SagaStepPhase.Failed : SagaStepPhase.CompensationFailed, Deadline = null, NextAttemptAt = null, Error = cause,
            });
            draft.Log(forward ? SagaLogAction.StepFailed : SagaLogAction.CompensationFailed, step.StepId, attempt,
                retry ? $"{cause}; no attempts left ({used} of {policy.MaxAttempts})" : $"{cause}; not retried while compensating");
        }
    }

    private async Task KickAsync(IEnumerable<(SagaStepProgress Step, SagaActionKind Kind)> actions)
    {
        var saga = state.State;
        var outputs = saga.Steps.Where(s => s.OutputJson is not null).ToDictionary(s => s.StepId, s => s.OutputJson!, StringComparer.Ordinal);
        await Task.WhenAll(actions.Select(async a =>
        {
            var attempt = a.Kind == SagaActionKind.Step ? a.Step.Attempt : a.Step.CompensationAttempt;
            var request = new SagaActionRequest(Id, saga.Definition!, a.Step.StepId, attempt, a.Step.ArgumentsJson ?? saga.InputJson, outputs, a.Step.Handler);
            try
            {
                await Action(a.Step.StepId, a.Kind).StartAsync(request);
            }
            catch (Exception e)
            {
                // The attempt is logged as started; the time-out or the resume reminder asks again.
                LogKickFailed(logger, e, Id, a.Step.StepId, a.Kind);
            }
        }));
    }

    private async Task AbandonAsync(IEnumerable<(SagaStepProgress Step, SagaActionKind Kind)> actions)
    {
        await Task.WhenAll(actions.Select(async a =>
        {
            try
            {
                await Action(a.Step.StepId, a.Kind).AbandonAsync(a.Kind == SagaActionKind.Step ? a.Step.Attempt : a.Step.CompensationAttempt);
            }
            catch (Exception e)
            {
                LogKickFailed(logger, e, Id, a.Step.StepId, a.Kind);
            }
        }));
    }

    private ISagaActionGrain Action(string stepId, SagaActionKind kind) => kind == SagaActionKind.Step
        ? GrainFactory.GetGrain<ISagaStepGrain>(SagaKeys.Action(Id, stepId))
        : GrainFactory.GetGrain<ISagaCompensationGrain>(SagaKeys.Action(Id, stepId));

    /// <summary>
    /// The one place a change becomes durable and visible: the change and its lifecycle events (in the outbox) in one
    /// write (the database projects the saga index inside that same statement); then the events are pushed to the
    /// saga's watchers, and the outbox delivers them to webhooks.
    /// </summary>
    private async Task SaveAsync(Draft draft)
    {
        var before = state.State;
        var outbox = before.Outbox;
        foreach (var entry in draft.Entries)
        {
            var type = OutboxEventTypes.For("saga", entry.Action);
            var message = new OutboxMessage($"saga:{Id}:{entry.Sequence}", type, "saga/" + Id, EventPayload, OutboxTargets.Payload(entry), entry.At);
            outbox = outbox.Add(message, (await webhooks.MatchingAsync(type)).Select(OutboxTarget.Webhook));
        }

        state.State = draft.State with
        {
            Steps = draft.Steps, Log = [.. before.Log, .. draft.Entries], Version = before.Version + 1, UpdatedAt = draft.Now, Outbox = outbox,
        };
        await WriteAsync(before);
        SagaMetrics.Saved(before, state.State, draft.Entries);
        await Feed.PublishAsync(draft.Entries);
    }

    private ChangeFeed<ISagaWatcher, SagaLogEntry> Feed => feed ??= new(
        "saga/" + Id, logger, (w, e, p) => w.ChangedAsync(e, p), e => GrainFactory.GetGrain<ISagaWatchHubGrain>(WatchHubs.Of(Id)).PublishAsync(e), e => e.Sequence);

    public Task<WatchPoint> WatchAsync(ISagaWatcher watcher) => Task.FromResult(Feed.Watch(watcher, state.State.Log.Count == 0 ? 0 : state.State.Log[^1].Sequence));

    public Task UnwatchAsync(ISagaWatcher watcher)
    {
        Feed.Unwatch(watcher);
        return Task.CompletedTask;
    }

    private async Task WriteAsync(SagaGrainState before)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            DeactivateOnIdle();
            throw;
        }

        Outbox.Written();
    }

    /// <summary>A timer for the next time-out or back-off; the reminder covers the loss of this activation.</summary>
    private void ScheduleWakeUp()
    {
        wakeUp?.Dispose();
        wakeUp = null;
        var saga = state.State;
        if (!CanProgress(saga))
        {
            return;
        }

        var due = saga.Steps.SelectMany(s => new[] { s.Deadline, s.NextAttemptAt }).OfType<DateTimeOffset>().DefaultIfEmpty().Min();
        if (due != default)
        {
            var wait = due - clock.GetUtcNow();
            wakeUp = this.RegisterGrainTimer(_ => AdvanceAsync(),
                new GrainTimerCreationOptions(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }
    }

    private async Task ArmReminderAsync()
    {
        if (reminderArmed == true)
        {
            return;
        }

        var period = TimeSpan.FromSeconds(settings.Sagas.ResumePeriodSeconds);
        var minimum = reminderOptions.Value.MinimumReminderPeriod;
        period = period < minimum ? minimum : period;
        await this.RegisterOrUpdateReminder(ResumeReminder, period, period);
        reminderArmed = true;
    }

    private async Task DisarmReminderAsync(string name)
    {
        if (reminderArmed == false && name == ResumeReminder)
        {
            return;
        }

        try
        {
            await this.UnregisterReminderIfAnyAsync(name);

            reminderArmed = false;
        }
        catch (Exception e)
        {
            // Left behind, it finds nothing to do when it fires and tries again then.
            LogDisarmFailed(logger, e, Id);
        }
    }

    /// <summary>Whether the saga can move without an outside call: not finished, not waiting for an operator, not an open scope.</summary>
    private static bool CanProgress(SagaGrainState saga) =>
        saga.Definition is not null && !saga.IsTerminal && saga.Status != SagaStatus.CompensationFailed
        && !(saga.IsScope && saga.Status == SagaStatus.Running);

    private SagaGrainState Require() =>
        state.State.Definition is null ? throw NotFoundException.ForSaga(Id) : state.State;

    private SagaGrainState RequireOpenScope(string what)
    {
        var current = Require();
        return current is { IsScope: true, Status: SagaStatus.Running }
            ? current
            : throw new InvalidTransitionException($"Saga {Id} is {(current.IsScope ? "a compensation scope" : "a saga")} in {current.Status}: cannot {what} it (only an open compensation scope).");
    }

    private void ValidateId()
    {
        // ':' separates the saga id from the step id in the idempotency keys of its steps.
        if ((InputText.IdProblem("id", Id) ?? (Id.Contains(':', StringComparison.Ordinal) ? "id: may not contain ':'" : null)) is { } problem)
        {
            throw new ValidationException($"Saga '{Id}'", [problem]);
        }
    }

    private void ThrowIfAny(List<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new ValidationException($"Saga {Id}", problems);
        }
    }

    private SagaSnapshot Snapshot(SagaGrainState s) => new(
        Id, s.Definition!, s.Status, s.InputJson, [.. s.Steps.Select(p => p.ToSnapshot())], s.FailedStep, s.Error,
        s.CancelRequested, s.CreatedAt, s.UpdatedAt, s.FinishedAt, s.Version);

    private static string Reason(string? reason) => string.IsNullOrWhiteSpace(reason) ? "by operator" : reason;

    private DateTimeOffset Now()
    {
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga {SagaId}: could not reach the {Kind} grain of step {StepId}; its time-out or the resume reminder asks again")]
    private static partial void LogKickFailed(ILogger logger, Exception exception, string sagaId, string stepId, SagaActionKind kind);


    [LoggerMessage(Level = LogLevel.Warning, Message = "Compensation scope {SagaId}: neither committed nor aborted within {Seconds} s; aborting it")]
    private static partial void LogScopeTimedOut(ILogger logger, string sagaId, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Saga {SagaId} was removed; an action grain could not be told to drop its activation (idle collection will)")]
    private static partial void LogForgetFailed(ILogger logger, Exception exception, string sagaId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga {SagaId}: the resume reminder could not be removed")]
    private static partial void LogDisarmFailed(ILogger logger, Exception exception, string sagaId);

    /// <summary>A change being planned: the saga, its steps and the log entries that describe the change.</summary>
    private sealed class Draft(string sagaId, SagaGrainState start, DateTimeOffset now)
    {
        private readonly List<SagaStepProgress> steps = [.. start.Steps];
        private readonly int logged = start.Log.Count;
        private readonly List<SagaLogEntry> entries = [];
        private readonly List<(SagaStepProgress, SagaActionKind)> started = [];
        private bool stateChanged;
        private SagaGrainState current = start with { };

        public DateTimeOffset Now => now;

        public SagaGrainState State
        {
            get => current;
            set
            {
                current = value;
                stateChanged = true;
            }
        }

        public IReadOnlyList<SagaStepProgress> Steps => steps;

        public IReadOnlyList<SagaLogEntry> Entries => entries;

        /// <summary>Attempts this change starts: asked for once it is durable.</summary>
        public IReadOnlyList<(SagaStepProgress, SagaActionKind)> Started => started;

        public bool Changed => stateChanged || entries.Count > 0;

        public void Set(SagaStepProgress step)
        {
            steps[steps.FindIndex(s => s.StepId == step.StepId)] = step;
            stateChanged = true;
        }

        public void Add(SagaStepProgress step)
        {
            steps.Add(step);
            stateChanged = true;
        }

        public void Start(SagaStepProgress step, SagaActionKind kind)
        {
            Set(step);
            started.Add((step, kind));
        }

        public void Finish(SagaStatus status, SagaLogAction action, string? detail)
        {
            State = current with { Status = status, FinishedAt = now };
            Log(action, detail: detail);
        }

        public void Log(SagaLogAction action, string? stepId = null, int attempt = 0, string? detail = null) =>
            entries.Add(new SagaLogEntry(sagaId, logged + entries.Count + 1, now, action,
                current.Status, stepId, attempt, detail));
    }
}
