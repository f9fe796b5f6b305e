using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Observability;
using NoOrg.Grains.Tasks;
using Polly;
using Polly.Retry;

namespace NoOrg.Client.Workers;

/// <summary>
/// Runs this process as a NoOrg agent: registers, stays connected (the connection is the heartbeat), receives
/// assigned tasks pushed by its agent grain, runs the handler, and reports each outcome until the cluster has
/// it. A task is run at most once per process; a report is retried across silo restarts and database outages and is
/// idempotent on the task grain, so a completion is never lost or duplicated. No failure ends a task slot: only
/// shutdown does. A slot or connection that keeps failing shows in <see cref="Slots"/>, <see cref="Connection"/> and
/// the health check <see cref="AgentWorkerHealthCheck"/>.
/// </summary>
public sealed partial class AgentWorkerService(
    IClusterClient client,
    IAgentTaskHandler handler,
    IOptions<AgentWorkerOptions> options,
    ILogger<AgentWorkerService> logger,
    ClusterChangeSignal? clusterChanges = null) : BackgroundService, IAgentWorker
{
    /// <summary>How often, and how long at most, the worker tries to connect during a reconnect burst.</summary>
    private static readonly TimeSpan BurstPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BurstCallTimeout = TimeSpan.FromSeconds(2);

    private static readonly ResiliencePropertyKey<Action<Exception>> FailureKey = new("noorg.worker.failure");

    private readonly AgentWorkerOptions settings = options.Value;
    private readonly Channel<TaskSnapshot> inbox = Channel.CreateUnbounded<TaskSnapshot>();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> running = new();
    private readonly ResiliencePipeline retryForever = RetryForever(options.Value.MaxRetryDelay);
    private WorkerSlotStatus[] slots = [];
    private WorkerConnectionStatus connection = new(false, null, null, null);
    private readonly SemaphoreSlim reconnectNow = new(0, 1);
    private long burstUntil; // Stopwatch ticks: while before it, the worker reconnects every BurstPeriod

    // The attempt each task last ran here: a snapshot re-sent by a reconnect after that run ended is stale.
    private readonly ConcurrentDictionary<string, int> ranAttempt = new();
    private readonly ConcurrentQueue<string> ranOrder = new();
    private const int RememberedRuns = 10_000;

    /// <summary>Tasks this worker finished and reported, in order; for tests and diagnostics.</summary>
    public ConcurrentQueue<string> Reported { get; } = new();

    /// <summary>Each task slot as it is now.</summary>
    public IReadOnlyList<WorkerSlotStatus> Slots => Volatile.Read(ref slots);

    public WorkerConnectionStatus Connection => Volatile.Read(ref connection);

    /// <summary>Slots that have failed to start or report their task for at least <see cref="AgentWorkerOptions.StalledAfter"/>.</summary>
    public IReadOnlyList<WorkerSlotStatus> StalledSlots(DateTimeOffset now) =>
        [.. Slots.Where(s => s.IsStalled(now, settings.StalledAfter))];

    internal AgentWorkerOptions Settings => settings;

    private IAgentGrain Agent => client.GetGrain<IAgentGrain>(settings.AgentId);

    public Task TaskAssigned(TaskSnapshot task)
    {
        inbox.Writer.TryWrite(task);
        return Task.CompletedTask;
    }

    public async Task TaskRevoked(string taskId, string reason)
    {
        if (running.TryGetValue(taskId, out var cts))
        {
            LogRevoked(logger, taskId, reason);
            await cts.CancelAsync();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        InputText.RequireId("AgentWorkerOptions.AgentId", settings.AgentId);

        var count = Math.Max(1, settings.Registration.MaxConcurrentTasks);
        Volatile.Write(ref slots, [.. Enumerable.Range(0, count).Select(i => new WorkerSlotStatus(i, null, null, null, null))]);
        var changedRegistration = await RegisterAsync(stoppingToken);
        var self = client.CreateObjectReference<IAgentWorker>(this);
        var workers = Enumerable.Range(0, count).Select(slot => RunTasksAsync(slot, stoppingToken)).ToArray();
        try
        {
            await StayConnectedAsync(self, changedRegistration, stoppingToken);
        }
        finally
        {
            inbox.Writer.TryComplete();
            await Task.WhenAll(workers);
            await LeaveAsync(self);

            client.DeleteObjectReference<IAgentWorker>(self);
        }
    }

    /// <summary>A graceful stop: the agent goes offline or is unregistered (handing back its tasks) as configured, then this process disconnects.</summary>
    private async Task LeaveAsync(IAgentWorker self)
    {
        const string why = "its worker stopped";
        switch (settings.OnShutdown)
        {
            case WorkerShutdown.GoOffline:
                await TryAsync("go offline", () => Agent.SetStatusAsync(AgentStatus.Offline, why));
                break;
            case WorkerShutdown.Unregister:
                await TryAsync("unregister", () => Agent.UnregisterAsync(why));
                return; // nothing left to disconnect from
        }

        await TryAsync("disconnect", () => Agent.DisconnectAsync(self));
    }

    private async Task TryAsync(string what, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnreachable(logger, settings.AgentId, what, Describe(e));
        }
    }

    /// <summary>Registers the agent; true when it was registered with other details, which are applied once this process is admitted.</summary>
    private async Task<bool> RegisterAsync(CancellationToken stoppingToken)
    {
        var changed = false;
        await RetryAsync(async () =>
        {
            try
            {
                await Agent.RegisterAsync(settings.Registration);
            }
            catch (ConflictException)
            {
                changed = true;
            }
        }, e => NoteConnection(e), stoppingToken);
        return changed;
    }

    /// <summary>A gateway was lost: reconnect now, and every second for <see cref="AgentWorkerOptions.ReconnectBurst"/>.</summary>
    private void OnGatewayLost()
    {
        if (settings.ReconnectBurst <= TimeSpan.Zero)
        {
            return;
        }

        Volatile.Write(ref burstUntil, Stopwatch.GetTimestamp() + (long)(settings.ReconnectBurst.TotalSeconds * Stopwatch.Frequency));
        if (reconnectNow.CurrentCount == 0)
        {
            try
            {
                reconnectNow.Release();
            }
            catch (SemaphoreFullException)
            {
                // already signalled
            }
        }
    }

    private bool InBurst => Stopwatch.GetTimestamp() < Volatile.Read(ref burstUntil);

    /// <summary>Reconnects every interval: a heartbeat, a fresh observer registration, and a resync of held tasks.</summary>
    private async Task StayConnectedAsync(IAgentWorker self, bool changedRegistration, CancellationToken stoppingToken)
    {
        if (clusterChanges is not null)
        {
            clusterChanges.GatewayLost += OnGatewayLost;
        }

        try
        {
            await ReconnectLoopAsync(self, changedRegistration, stoppingToken);
        }
        finally
        {
            if (clusterChanges is not null)
            {
                clusterChanges.GatewayLost -= OnGatewayLost;
            }
        }
    }

    private async Task ReconnectLoopAsync(IAgentWorker self, bool changedRegistration, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // During a burst the agent grain may still be on the silo that went away: a call there waits for the
                // response timeout, so the burst does not wait for it and tries again a second later.
                var connecting = Agent.ConnectAsync(self, [.. running.Keys]); // only the tasks it holds that are not running here come back
                var held = InBurst ? await connecting.WaitAsync(BurstCallTimeout, stoppingToken) : await connecting;
                if (changedRegistration)
                {
                    var r = settings.Registration;
                    await Agent.UpdateAsync(new AgentUpdate(r.Name, r.Description, r.Capabilities, r.MaxConcurrentTasks, r.Metadata));
                    changedRegistration = false;
                }

                Volatile.Write(ref connection, new WorkerConnectionStatus(true, null, null, null));
                foreach (var task in held)
                {
                    inbox.Writer.TryWrite(task); // duplicates are dropped by RunOneAsync
                }
            }
            catch (NotFoundException e)
            {
                NoteConnection(e); // unregistered meanwhile: register again
                changedRegistration |= await RegisterAsync(stoppingToken);
            }
            catch (ConflictException e)
            {
                // Another process serves this agent id: stay a standby, asking again at every interval.
                Volatile.Write(ref connection, new WorkerConnectionStatus(false, Connection.FailingSince ?? DateTimeOffset.UtcNow, Describe(e), e.Message));
                LogRefused(logger, settings.AgentId, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                NoteConnection(e);
                LogUnreachable(logger, settings.AgentId, "connect", Describe(e));
            }

            try
            {
                await reconnectNow.WaitAsync(InBurst ? BurstPeriod : settings.HeartbeatInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One slot: takes tasks until shutdown. Nothing but shutdown ends it.</summary>
    private async Task RunTasksAsync(int slot, CancellationToken stoppingToken)
    {
        await foreach (var task in inbox.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                await RunOneAsync(slot, task, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                LogAbandoned(logger, task.Id); // shutting down: the task stays with this agent and is resumed or reassigned
            }
            catch (Exception e)
            {
                LogSlotError(logger, e, slot, task.Id);
            }
            finally
            {
                UpdateSlot(slot, _ => new WorkerSlotStatus(slot, null, null, null, null));
            }
        }
    }

    private async Task RunOneAsync(int slot, TaskSnapshot assigned, CancellationToken stoppingToken)
    {
        if (assigned.AssignedTo != settings.AgentId || assigned.IsTerminal || AlreadyRan(assigned))
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (!running.TryAdd(assigned.Id, cts))
        {
            return; // already running here
        }

        // The run joins the trace of the call that created the task, whatever push or reconnect brought it here.
        using var run = NoOrgTracing.StartCausedBy(NoOrgTracing.WorkerRun, ActivityKind.Consumer, assigned.TraceParent);
        run.Recorded()?.SetTag(NoOrgTracing.TaskId, assigned.Id).SetTag(NoOrgTracing.TaskType, assigned.Spec.Type)
            .SetTag(NoOrgTracing.AgentId, settings.AgentId);
        try
        {
            UpdateSlot(slot, s => s with { TaskId = assigned.Id });
            var grain = client.GetGrain<ITaskGrain>(assigned.Id);
            TaskSnapshot? task = assigned;
            if (assigned.State != TaskState.Running)
            {
                task = await CallAsync(slot, "start", () => grain.StartAsync(settings.AgentId), stoppingToken);
            }

            if (task is null)
            {
                return; // reassigned or cancelled meanwhile
            }

            Remember(task);
            run.Recorded()?.SetTag(NoOrgTracing.TaskAttempt, task.Attempt);
            var clock = Stopwatch.StartNew();
            string? result = null;
            string? error = null;
            using (var handling = NoOrgTracing.Source.StartActivity(NoOrgTracing.WorkerHandler))
            {
                handling.Recorded()?.SetTag(NoOrgTracing.TaskId, task.Id).SetTag(NoOrgTracing.TaskAttempt, task.Attempt);
                try
                {
                    result = await handler.HandleAsync(task, cts.Token);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    run.Recorded()?.SetTag(NoOrgTracing.Outcome, "abandoned");
                    return; // shutting down: the task stays with this agent and is resumed or reassigned
                }
                catch (OperationCanceledException)
                {
                    run.Recorded()?.SetTag(NoOrgTracing.Outcome, "revoked");
                    return; // revoked
                }
                catch (Exception e)
                {
                    handling.Failed(e);
                    error = $"{e.GetType().Name}: {e.Message}";
                }
            }

            LogRan(logger, task.Id, task.Attempt, clock.Elapsed.TotalMilliseconds, error is null ? "completed" : "failed");
            run.Recorded()?.SetTag(NoOrgTracing.Outcome, error is null ? "completed" : "failed");
            await ReportAsync(slot, task.Id, result, error, clock.Elapsed, stoppingToken);
        }
        finally
        {
            running.TryRemove(assigned.Id, out _);
        }
    }

    /// <summary>
    /// A completion or failure, retried until the cluster has it. A result the task refuses as invalid is reported as
    /// the attempt's failure instead, so the task never waits on a report that cannot succeed.
    /// </summary>
    private async Task ReportAsync(int slot, string taskId, string? result, string? error, TimeSpan elapsed, CancellationToken stoppingToken)
    {
        var grain = client.GetGrain<ITaskGrain>(taskId);
        TaskSnapshot? reported;
        if (error is null)
        {
            try
            {
                reported = await CallAsync(slot, "report", () => grain.CompleteAsync(settings.AgentId, result ?? "null", elapsed), stoppingToken, refusedIsFinal: false);
            }
            catch (ValidationException e)
            {
                error = $"the result was refused: {e.Message}";
                reported = await CallAsync(slot, "report", () => grain.FailAsync(settings.AgentId, InputText.Storable(error)), stoppingToken);
            }
        }
        else
        {
            reported = await CallAsync(slot, "report", () => grain.FailAsync(settings.AgentId, InputText.Storable(error)), stoppingToken);
        }

        if (reported is not null)
        {
            Reported.Enqueue(taskId);
        }
    }

    /// <summary>
    /// Calls the cluster for the slot until the call goes through (returns its answer) or the task has moved on (a NoOrg
    /// error other than <see cref="UnavailableException"/>: returns null). Every other failure is retried with back-off.
    /// </summary>
    private async Task<TaskSnapshot?> CallAsync(int slot, string what, Func<Task<TaskSnapshot>> call, CancellationToken stoppingToken, bool refusedIsFinal = true)
    {
        try
        {
            var answer = await RetryAsync(call, e =>
            {
                var now = DateTimeOffset.UtcNow;
                UpdateSlot(slot, s => s with { FailingCall = what, FailingSince = s.FailingSince ?? now, LastError = Describe(e) });
                LogRetrying(logger, settings.AgentId, slot, what, TaskOf(slot), Describe(e));
            }, stoppingToken);
            return answer;
        }
        catch (NoOrgException e) when (refusedIsFinal || e is not ValidationException)
        {
            LogSkipped(logger, TaskOf(slot) ?? "?", e.Message); // the task moved on (cancelled, reassigned, already reported)
            return null;
        }
        finally
        {
            UpdateSlot(slot, s => s with { FailingCall = null, FailingSince = null, LastError = null });
        }
    }

    private string? TaskOf(int slot) => slot < Slots.Count ? Slots[slot].TaskId : null;

    private async Task<T> RetryAsync<T>(Func<Task<T>> call, Action<Exception> onFailure, CancellationToken stoppingToken)
    {
        var context = ResilienceContextPool.Shared.Get(stoppingToken);
        context.Properties.Set(FailureKey, onFailure);
        try
        {
            return await retryForever.ExecuteAsync(async _ => await call(), context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task RetryAsync(Func<Task> call, Action<Exception> onFailure, CancellationToken stoppingToken) =>
        RetryAsync(async () =>
        {
            await call();
            return true;
        }, onFailure, stoppingToken);

    /// <summary>Capped exponential back-off with jitter, without end: what fails is retried until it works or the worker stops.</summary>
    private static ResiliencePipeline RetryForever(TimeSpan maxDelay) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = maxDelay,
            UseJitter = true,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsRetryable),
            OnRetry = args =>
            {
                if (args.Outcome.Exception is { } e && args.Context.Properties.TryGetValue(FailureKey, out var onFailure))
                {
                    onFailure(e);
                }

                return default;
            },
        })
        .Build();

    /// <summary>Everything but shutdown and a NoOrg error that says the request itself cannot succeed.</summary>
    private static bool IsRetryable(Exception e) => e switch
    {
        OperationCanceledException => false,
        UnavailableException => true,
        NoOrgException => false,
        _ => true,
    };

    private void NoteConnection(Exception e)
    {
        var current = Connection;
        Volatile.Write(ref connection, new WorkerConnectionStatus(false, current.FailingSince ?? DateTimeOffset.UtcNow, Describe(e), null));
    }

    private void UpdateSlot(int slot, Func<WorkerSlotStatus, WorkerSlotStatus> change)
    {
        var current = Volatile.Read(ref slots);
        if (slot >= current.Length)
        {
            return;
        }

        var next = (WorkerSlotStatus[])current.Clone();
        next[slot] = change(current[slot]);
        Volatile.Write(ref slots, next); // each slot is written only by its own loop, so no update is lost
    }

    /// <summary>
    /// A running snapshot of an attempt that already ran here, or an assigned one from before it: the reconnect
    /// that re-sends held tasks must never run an attempt a second time.
    /// </summary>
    private bool AlreadyRan(TaskSnapshot task) =>
        ranAttempt.TryGetValue(task.Id, out var attempt)
        && (task.State == TaskState.Running ? task.Attempt <= attempt : task.Attempt < attempt);

    private void Remember(TaskSnapshot started)
    {
        if (ranAttempt.TryAdd(started.Id, started.Attempt))
        {
            ranOrder.Enqueue(started.Id);
            while (ranOrder.Count > RememberedRuns && ranOrder.TryDequeue(out var oldest))
            {
                ranAttempt.TryRemove(oldest, out _);
            }
        }
        else
        {
            ranAttempt[started.Id] = started.Attempt;
        }
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: {Call} failed ({Reason}); retrying")]
    private static partial void LogUnreachable(ILogger logger, string agentId, string call, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}, slot {Slot}: {Call} of task {TaskId} failed ({Reason}); retrying")]
    private static partial void LogRetrying(ILogger logger, string agentId, int slot, string call, string? taskId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Agent {AgentId} refused: {Reason} Waiting as a standby.")]
    private static partial void LogRefused(ILogger logger, string agentId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slot {Slot} failed on task {TaskId}; the slot goes on with the next task")]
    private static partial void LogSlotError(ILogger logger, Exception exception, int slot, string taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} left unreported at shutdown; the cluster resumes or reassigns it")]
    private static partial void LogAbandoned(ILogger logger, string taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} not run or not reported: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Task {TaskId} attempt {Attempt}: the handler ran for {ElapsedMs:0.#} ms and {Outcome}")]
    private static partial void LogRan(ILogger logger, string taskId, int attempt, double elapsedMs, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} revoked: {Reason}")]
    private static partial void LogRevoked(ILogger logger, string taskId, string reason);
}
