using System.Collections.Concurrent;
using System.Diagnostics;
using NoOrg.Client.Tasks;
using NoOrg.Client.Watching;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Bench;

/// <summary>Agent registration: one new agent per sample; the agents are unregistered after each level.</summary>
internal sealed class RegistrationScenario(BenchRun run) : BenchScenario
{
    private readonly ConcurrentQueue<string> registered = new();
    private long next;

    public override string Name => "registration";

    public override string Measures => "IAgentGrain.RegisterAsync of a new agent, until it returns (the agent is durable and indexed)";

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var id = run.Name("r" + Interlocked.Increment(ref next));
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<IAgentGrain>(id).RegisterAsync(BenchAgents.Registration("bench-reg-" + run.Id, 1));
        var elapsed = Stopwatch.GetElapsedTime(started);
        registered.Enqueue(id);
        return elapsed;
    }

    public override Task CleanUpAsync(CancellationToken cancellationToken) =>
        BenchRun.ForEachQuietlyAsync(Drain(registered), id => run.Caller.GetGrain<IAgentGrain>(id).UnregisterAsync("bench clean-up"), cancellationToken);

    internal static List<string> Drain(ConcurrentQueue<string> queue)
    {
        var items = new List<string>();
        while (queue.TryDequeue(out var item))
        {
            items.Add(item);
        }

        return items;
    }
}

/// <summary>Task creation: a task no agent can take (it stays pending); the tasks are cancelled after each level.</summary>
internal sealed class CreationScenario(BenchRun run) : BenchScenario
{
    private readonly ConcurrentQueue<string> created = new();

    public override string Name => "creation";

    public override string Measures => "ITaskGrain.CreateAsync of a new task, until it returns (the task is durable and indexed)";

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, run.Nobody);
        var id = TaskClientExtensions.NewTaskId(spec);
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(spec, BenchRun.Actor);
        var elapsed = Stopwatch.GetElapsedTime(started);
        created.Enqueue(id);
        return elapsed;
    }

    public override Task CleanUpAsync(CancellationToken cancellationToken) =>
        BenchTasks.CancelAsync(run, RegistrationScenario.Drain(created), cancellationToken);
}

/// <summary>
/// Task assignment: a task that an idle connected agent can take, from the start of the create call until that
/// agent's worker has the task pushed to it (the moment a worker could begin). The bench's agents then start and
/// complete the task in the background, so they stay idle.
/// </summary>
internal sealed class AssignmentScenario(BenchRun run) : BenchScenario
{
    private BenchAgents? agents;

    public override string Name => "assignment";

    public override string Measures => "create a task an idle agent can take, until the agent's connected worker receives it";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        agents = await BenchAgents.ConnectAsync(run, "bench-assign-" + run.Id, count: 4, cancellationToken);
    }

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, agents!.Capability);
        var id = TaskClientExtensions.NewTaskId(spec);
        var received = agents.Expect(id);
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(spec, BenchRun.Actor);
        var at = await received.WaitAsync(EventPatience, cancellationToken);
        return Stopwatch.GetElapsedTime(started, at);
    }

    public override Task SettleAsync(CancellationToken cancellationToken) => agents!.DrainAsync();

    public override Task CleanUpAsync(CancellationToken cancellationToken) => agents!.DrainAsync();

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (agents is not null)
        {
            await agents.DisposeAsync();
        }
    }
}

/// <summary>
/// State sync: another client watches the task (its changes are pushed to it); from the start of the call that changes the task's state
/// (a cancel) until that client receives the event. The follower subscribes before the sample starts.
/// </summary>
internal sealed class StateSyncScenario(BenchRun run) : BenchScenario
{
    public override string Name => "state-sync";

    public override string Measures => "cancel a pending task, from the start of the call until another client watching the task has the event";

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, run.Nobody);
        var id = TaskClientExtensions.NewTaskId(spec);
        await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(spec, BenchRun.Actor);
        await using var follower = await Watches.TaskAsync(run.Other, id);
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(EventPatience);
        var seen = CancelledAsync(follower, patience.Token);
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<ITaskGrain>(id).CancelAsync("bench", BenchRun.Actor);
        return Stopwatch.GetElapsedTime(started, await seen);
    }

    private static async Task<long> CancelledAsync(ChangeWatch<TaskEvent> follower, CancellationToken cancellationToken)
    {
        while ((await follower.ReadAsync(cancellationToken)).Action != TaskAction.Cancelled)
        {
        }

        return Stopwatch.GetTimestamp();
    }
}

/// <summary>
/// The full lifecycle through the worker SDK (<c>AddNoOrgWorker</c>'s service): create, assigned and pushed to a
/// worker, started, handled (the handler returns at once), completed; until another client following every task
/// has the completed event.
/// </summary>
internal sealed class LifecycleScenario(BenchRun run) : BenchScenario
{
    private BenchWorkers? workers;

    public override string Name => "lifecycle";

    public override string Measures => "create a task for an SDK worker, until another client has its completed event (assign, start, complete between)";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        workers = await BenchWorkers.StartAsync(run, "bench-work-" + run.Id, count: 4, cancellationToken);
    }

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, workers!.Capability);
        var id = TaskClientExtensions.NewTaskId(spec);
        var completed = workers.Expect(id);
        var started = Stopwatch.GetTimestamp();
        await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(spec, BenchRun.Actor);
        var at = await completed.WaitAsync(EventPatience, cancellationToken);
        return Stopwatch.GetElapsedTime(started, at);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (workers is not null)
        {
            await workers.DisposeAsync();
        }
    }
}

internal static class BenchTasks
{
    /// <summary>A bench task; with <c>--timeouts</c> it has a time-out and a deadline an hour away (never reached).</summary>
    public static TaskSpec Spec(BenchRun run, string capability)
    {
        var spec = new TaskSpec("bench", "bench", InputJson: "{\"n\":1}", RequiredCapabilities: [capability], MaxAttempts: 1);
        return run.Plan.Timeouts ? spec with { Timeout = TimeSpan.FromHours(1), Deadline = DateTimeOffset.UtcNow.AddHours(1) } : spec;
    }

    public static Task CancelAsync(BenchRun run, IEnumerable<string> ids, CancellationToken cancellationToken) =>
        BenchRun.ForEachQuietlyAsync(ids, id => run.Caller.GetGrain<ITaskGrain>(id).CancelAsync("bench clean-up", BenchRun.Actor), cancellationToken);
}
