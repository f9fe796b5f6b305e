using System.Collections.Concurrent;
using System.Threading.Channels;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Workers;

/// <summary>
/// The silo's stand-in for one HTTP worker process of an agent: an <see cref="IAgentWorker"/> observer, connected to
/// the agent grain exactly as a .NET worker is, that keeps the tasks pushed to it until the worker's long poll takes
/// them. A waiting poll is an awaited channel read: it holds neither a thread nor a grain turn.
/// </summary>
internal sealed class HttpWorkerSession : IAgentWorker
{
    private readonly Channel<TaskSnapshot> inbox = Channel.CreateUnbounded<TaskSnapshot>();
    private readonly ConcurrentDictionary<string, byte> queued = new(StringComparer.Ordinal);

    // Task id -> the attempt the worker said it runs (start, heartbeat): what ConnectAsync is told the worker is running.
    private readonly ConcurrentDictionary<string, int> running = new(StringComparer.Ordinal);
    private long lastContact;
    private long lastConnect;
    private int polls;

    public HttpWorkerSession(string agentId, string workerId, DateTimeOffset now)
    {
        AgentId = agentId;
        WorkerId = workerId;
        lastContact = now.UtcTicks;
    }

    public string AgentId { get; }

    /// <summary>The id the worker process chose for itself: a second process of the same agent has another one.</summary>
    public string WorkerId { get; }

    /// <summary>This session's observer reference, set once it is created in the silo.</summary>
    public IAgentWorker Reference { get; set; } = null!;

    /// <summary>One connect at a time per session; a renewal that finds one under way skips.</summary>
    public SemaphoreSlim Connecting { get; } = new(1, 1);

    public bool Closed { get; private set; }

    public int WaitingPolls => Volatile.Read(ref polls);

    public DateTimeOffset LastContact => new(Interlocked.Read(ref lastContact), TimeSpan.Zero);

    public DateTimeOffset LastConnect => new(Interlocked.Read(ref lastConnect), TimeSpan.Zero);

    public IReadOnlyList<string> RunningIds => [.. running.Keys];

    public Task TaskAssigned(TaskSnapshot task)
    {
        Offer(task);
        return Task.CompletedTask;
    }

    public Task TaskRevoked(string taskId, string reason)
    {
        // The worker learns it at its next heartbeat (a 409); the task is no longer one it runs.
        running.TryRemove(taskId, out _);
        return Task.CompletedTask;
    }

    /// <summary>Queues a task for the poller unless the worker already runs that attempt or it is queued already.</summary>
    public void Offer(TaskSnapshot task)
    {
        if (Closed || task.AssignedTo != AgentId || task.IsTerminal || RunsAlready(task))
        {
            return;
        }

        if (queued.TryAdd(task.Id, 0))
        {
            inbox.Writer.TryWrite(task);
        }
    }

    /// <summary>The next task for the worker, or null when none came within <paramref name="wait"/>.</summary>
    public async Task<TaskSnapshot?> NextAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref polls);
        try
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waiting.CancelAfter(wait);
            while (true)
            {
                while (inbox.Reader.TryRead(out var task))
                {
                    queued.TryRemove(task.Id, out _);
                    if (!RunsAlready(task))
                    {
                        return task;
                    }
                }

                try
                {
                    if (!await inbox.Reader.WaitToReadAsync(waiting.Token))
                    {
                        return null; // closed
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return null; // waited long enough
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref polls);
        }
    }

    public void Touch(DateTimeOffset now) => Interlocked.Exchange(ref lastContact, Math.Max(now.UtcTicks, Interlocked.Read(ref lastContact)));

    public void Connected(DateTimeOffset now) => Interlocked.Exchange(ref lastConnect, now.UtcTicks);

    /// <summary>The worker runs <paramref name="attempt"/> of the task (it started it, or heartbeats it).</summary>
    public void Runs(string taskId, int attempt) => running[taskId] = attempt;

    /// <summary>The worker reported the task (complete, fail, hand back): it no longer runs it.</summary>
    public void Done(string taskId) => running.TryRemove(taskId, out _);

    public void Close()
    {
        Closed = true;
        inbox.Writer.TryComplete();
    }

    // A running snapshot of the attempt the worker runs, or the assigned one just before it, is that same work again.
    private bool RunsAlready(TaskSnapshot task) =>
        running.TryGetValue(task.Id, out var attempt) && attempt >= (task.State == TaskState.Running ? task.Attempt : task.Attempt + 1);
}
