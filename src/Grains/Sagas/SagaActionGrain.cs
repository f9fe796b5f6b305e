using Microsoft.Extensions.Logging;
using NoOrg.Grains.Observability;

namespace NoOrg.Grains.Sagas;

/// <summary>What a step or compensation grain stores: the newest attempt it accepted, and that attempt's outcome once known.</summary>
[GenerateSerializer, Alias("noorg.sagas.action-state")]
public sealed record SagaActionState
{
    [Id(0)] public SagaActionRequest? Request { get; init; }
    [Id(1)] public SagaActionOutcome? Outcome { get; init; }
}

/// <summary>
/// Runs attempts of one step or compensation, keyed <c>{sagaId}:{stepId}</c>. An accepted attempt is stored before the
/// action runs, the outcome is stored before it is reported, and a success is final: no later request runs the action
/// again, it only gets the stored outcome. The action runs in the background, so the coordinator's call returns at
/// once; an attempt accepted by an activation that died is run again by the next one when the coordinator asks again,
/// with the same idempotency key, which is what lets the effect apply once.
/// </summary>
public abstract partial class SagaActionGrain(
    IPersistentState<SagaActionState> state, SagaRegistry registry, IServiceProvider services, ILogger logger) : Grain, ISagaActionGrain, ISagaActionRemoval
{
    private static readonly TimeSpan ReportRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromMinutes(1);
    private const int ReportAttempts = 5;

    private CancellationTokenSource? running;
    private int runningAttempt;
    private Task? work;
    private IGrainTimer? keepAlive;

    protected abstract SagaActionKind Kind { get; }

    public Task<SagaActionOutcome?> GetOutcomeAsync() => Task.FromResult(state.State.Outcome);

    public async Task StartAsync(SagaActionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stored = state.State;
        if (stored.Outcome is { } outcome && (outcome.Succeeded || outcome.Attempt >= request.Attempt))
        {
            // Done before: report it again (a success stands for any later attempt), never run it again.
            ReportLater(request.SagaId, outcome.Succeeded ? outcome with { Attempt = request.Attempt } : outcome);
            return;
        }

        if (work is { IsCompleted: false } && runningAttempt >= request.Attempt)
        {
            return; // this attempt runs here now
        }

        if (stored.Request is { } accepted && accepted.Attempt > request.Attempt)
        {
            return; // a stale request for an attempt already superseded
        }

        if (running is not null)
        {
            await running.CancelAsync();
        }

        state.State = stored with { Request = request, Outcome = null };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = stored; // not accepted: the coordinator asks again
            throw;
        }
        running?.Dispose();
        running = new CancellationTokenSource();
        runningAttempt = request.Attempt;
        // Idle collection must not take this activation (and the running action with it) while the action runs.
        keepAlive ??= this.RegisterGrainTimer(() => Task.CompletedTask, new GrainTimerCreationOptions(KeepAlivePeriod, KeepAlivePeriod) { KeepAlive = true });
        work = RunAsync(request, running.Token);
    }

    /// <summary>The saga's rows are gone (retention): keep nothing of it, so a saga started later under the same id starts clean.</summary>
    public Task ForgetAsync()
    {
        if (work is not { IsCompleted: false })
        {
            state.State = new SagaActionState();
            DeactivateOnIdle();
        }

        return Task.CompletedTask;
    }

    public async Task AbandonAsync(int attempt)
    {
        if (running is not null && runningAttempt == attempt)
        {
            await running.CancelAsync();
        }
    }

    private async Task RunAsync(SagaActionRequest request, CancellationToken cancellationToken)
    {
        SagaActionOutcome outcome;
        // A child of the call that accepted the attempt: the saga's advance, and so the call that started the saga.
        using var span = NoOrgTracing.Source.StartActivity(NoOrgTracing.SagaStepRun);
        span.Recorded()?.SetTag(NoOrgTracing.SagaId, request.SagaId).SetTag(NoOrgTracing.SagaStepId, request.StepId)
            .SetTag(NoOrgTracing.SagaDefinition, request.Definition).SetTag(NoOrgTracing.SagaAction, MetricNames.Of(Kind))
            .SetTag(NoOrgTracing.SagaAttempt, request.Attempt);
        try
        {
            var action = Resolve(request);
            var context = new SagaStepContext(request, Kind, services, GrainFactory, cancellationToken);
            // Off the grain's scheduler: a slow or blocking action never holds up this grain's other calls.
            var output = await Task.Run(() => action.ExecuteAsync(context), CancellationToken.None);
            outcome = new SagaActionOutcome(request.Attempt, true, output, null);
        }
        catch (Exception e)
        {
            var error = e is OperationCanceledException && cancellationToken.IsCancellationRequested ? "abandoned (timed out or cancelled)" : e.Message;
            outcome = new SagaActionOutcome(request.Attempt, false, null, $"{e.GetType().Name}: {error}");
            span.Failed(e);
        }

        if (runningAttempt == request.Attempt)
        {
            keepAlive?.Dispose();
            keepAlive = null;
        }

        if (state.State.Request?.Attempt != request.Attempt || state.State.Outcome is not null)
        {
            return; // superseded by a later attempt while running
        }

        state.State = state.State with { Outcome = outcome };
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // Not stored, so not reported: the coordinator asks again and this attempt runs again under the same key.
            LogStoreFailed(logger, e, this.GetPrimaryKeyString(), request.Attempt);
            state.State = state.State with { Outcome = null };
            DeactivateOnIdle();
            return;
        }

        ReportLater(request.SagaId, outcome);
    }

    private SagaAction Resolve(SagaActionRequest request)
    {
        if (Kind == SagaActionKind.Compensation && request.Handler is { } handler)
        {
            return registry.Handler(handler).Action;
        }

        var step = registry.Definition(request.Definition).Find(request.StepId)
            ?? throw new InvalidOperationException($"step '{request.StepId}' is not in saga definition '{request.Definition}' of this silo");
        return Kind == SagaActionKind.Step
            ? step.Action
            : step.Compensation ?? throw new InvalidOperationException($"step '{request.StepId}' of '{request.Definition}' has no compensation");
    }

    /// <summary>Tells the coordinator in the background (never inside a call from it, which would deadlock both).</summary>
    private void ReportLater(string sagaId, SagaActionOutcome outcome) => _ = ReportAsync(sagaId, outcome);

    private async Task ReportAsync(string sagaId, SagaActionOutcome outcome)
    {
        await Task.Yield();
        var stepId = SagaKeys.Parse(this.GetPrimaryKeyString()).StepId;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await GrainFactory.GetGrain<ISagaGrain>(sagaId).ActionFinishedAsync(stepId, Kind, outcome);
                return;
            }
            catch (Exception e) when (attempt < ReportAttempts)
            {
                LogReportRetry(logger, e, this.GetPrimaryKeyString(), attempt);
                await Task.Delay(ReportRetryDelay);
            }
            catch (Exception e)
            {
                // The coordinator's resume reminder asks again and gets the stored outcome.
                LogReportLost(logger, e, this.GetPrimaryKeyString());
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga action {Key}: the outcome of attempt {Attempt} could not be stored; it runs again when asked")]
    private static partial void LogStoreFailed(ILogger logger, Exception exception, string key, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Saga action {Key}: reporting to the coordinator failed (try {Attempt}); retrying")]
    private static partial void LogReportRetry(ILogger logger, Exception exception, string key, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga action {Key}: the coordinator could not be told; its resume reminder will ask again")]
    private static partial void LogReportLost(ILogger logger, Exception exception, string key);
}

/// <summary>Runs the steps of sagas.</summary>
public sealed class SagaStepGrain(
    [PersistentState("saga-step", StorageNames.Default)] IPersistentState<SagaActionState> state,
    SagaRegistry registry, IServiceProvider services, ILogger<SagaStepGrain> logger)
    : SagaActionGrain(state, registry, services, logger), ISagaStepGrain
{
    protected override SagaActionKind Kind => SagaActionKind.Step;
}

/// <summary>Runs the compensations of saga steps (and of compensation scopes).</summary>
public sealed class SagaCompensationGrain(
    [PersistentState("saga-compensation", StorageNames.Default)] IPersistentState<SagaActionState> state,
    SagaRegistry registry, IServiceProvider services, ILogger<SagaCompensationGrain> logger)
    : SagaActionGrain(state, registry, services, logger), ISagaCompensationGrain
{
    protected override SagaActionKind Kind => SagaActionKind.Compensation;
}
