using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;

namespace NoOrg.Client.Workers;

/// <summary>
/// Runs this process as a NoOrg agent: registers, stays connected (the connection is the heartbeat), receives
/// assigned tasks pushed by its agent grain, runs the handler, and reports each outcome until the cluster has
/// it. A task is run at most once per process; a report is retried across silo restarts and is idempotent on
/// the task grain, so a completion is never lost or duplicated.
/// </summary>
public sealed partial class AgentWorkerService(
    IClusterClient client,
    IAgentTaskHandler handler,
    IOptions<AgentWorkerOptions> options,
    ILogger<AgentWorkerService> logger) : BackgroundService, IAgentWorker
{
    private readonly AgentWorkerOptions settings = options.Value;
    private readonly Channel<TaskSnapshot> inbox = Channel.CreateUnbounded<TaskSnapshot>();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> running = new();

    // The attempt each task last ran here: a snapshot re-sent by a reconnect after that run ended is stale.
    private readonly ConcurrentDictionary<string, int> ranAttempt = new();
    private readonly ConcurrentQueue<string> ranOrder = new();
    private const int RememberedRuns = 10_000;

    /// <summary>Tasks this worker finished and reported, in order; for tests and diagnostics.</summary>
    public ConcurrentQueue<string> Reported { get; } = new();

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

        await RegisterAsync(stoppingToken);
        var self = client.CreateObjectReference<IAgentWorker>(this);
        var workers = Enumerable.Range(0, Math.Max(1, settings.Registration.MaxConcurrentTasks))
            .Select(_ => RunTasksAsync(stoppingToken)).ToArray();
        try
        {
            await StayConnectedAsync(self, stoppingToken);
        }
        finally
        {
            inbox.Writer.TryComplete();
            await Task.WhenAll(workers);
            try
            {
                await Agent.DisconnectAsync(self);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogUnreachable(logger, settings.AgentId, e.Message);
            }

            client.DeleteObjectReference<IAgentWorker>(self);
        }
    }

    private async Task RegisterAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                try
                {
                    await Agent.RegisterAsync(settings.Registration);
                }
                catch (ConflictException)
                {
                    var r = settings.Registration;
                    await Agent.UpdateAsync(new AgentUpdate(r.Name, r.Description, r.Capabilities, r.MaxConcurrentTasks, r.Metadata));
                }

                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                LogUnreachable(logger, settings.AgentId, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    /// <summary>Reconnects every interval: a heartbeat, a fresh observer registration, and a resync of held tasks.</summary>
    private async Task StayConnectedAsync(IAgentWorker self, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var held in await Agent.ConnectAsync(self))
                {
                    inbox.Writer.TryWrite(held); // duplicates are dropped by RunOneAsync
                }
            }
            catch (Exception e) when (IsTransient(e) || e is NotFoundException)
            {
                LogUnreachable(logger, settings.AgentId, e.Message);
                if (e is NotFoundException)
                {
                    await RegisterAsync(stoppingToken);
                }
            }

            try
            {
                await Task.Delay(settings.HeartbeatInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunTasksAsync(CancellationToken stoppingToken)
    {
        await foreach (var task in inbox.Reader.ReadAllAsync(CancellationToken.None))
        {
            await RunOneAsync(task, stoppingToken);
        }
    }

    private async Task RunOneAsync(TaskSnapshot assigned, CancellationToken stoppingToken)
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

        try
        {
            var grain = client.GetGrain<ITaskGrain>(assigned.Id);
            TaskSnapshot task;
            try
            {
                task = assigned.State == TaskState.Running ? assigned : await grain.StartAsync(settings.AgentId);
            }
            catch (NoOrgException e)
            {
                LogSkipped(logger, assigned.Id, e.Message); // reassigned or cancelled meanwhile
                return;
            }

            Remember(task);
            var clock = Stopwatch.StartNew();
            string? result = null;
            string? error = null;
            try
            {
                result = await handler.HandleAsync(task, cts.Token);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return; // shutting down: the task stays with this agent and is resumed or reassigned
            }
            catch (OperationCanceledException)
            {
                return; // revoked
            }
            catch (Exception e)
            {
                error = $"{e.GetType().Name}: {e.Message}";
            }

            await ReportAsync(task.Id, result, error, clock.Elapsed);
        }
        finally
        {
            running.TryRemove(assigned.Id, out _);
        }
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

    private async Task ReportAsync(string taskId, string? result, string? error, TimeSpan elapsed)
    {
        var grain = client.GetGrain<ITaskGrain>(taskId);
        var deadline = DateTime.UtcNow + settings.ReportPatience;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                if (error is null)
                {
                    await grain.CompleteAsync(settings.AgentId, result ?? "null", elapsed);
                }
                else
                {
                    await grain.FailAsync(settings.AgentId, InputText.Storable(error)); // an exception message cannot be refused
                }

                Reported.Enqueue(taskId);
                return;
            }
            catch (NoOrgException e)
            {
                LogSkipped(logger, taskId, e.Message); // the task moved on (cancelled, reassigned): nothing to report
                return;
            }
            catch (Exception e) when (IsTransient(e) && DateTime.UtcNow < deadline)
            {
                LogUnreachable(logger, settings.AgentId, e.Message);
                await Task.Delay(delay, CancellationToken.None);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        TransientErrorRetryFilter.IsTransient(e) || e is OrleansException or InvalidOperationException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: cluster unreachable ({Reason}); retrying")]
    private static partial void LogUnreachable(ILogger logger, string agentId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} not run or not reported: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string taskId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} revoked: {Reason}")]
    private static partial void LogRevoked(ILogger logger, string taskId, string reason);
}
