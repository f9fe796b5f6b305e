using System.Collections.Concurrent;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Tasks;

namespace NoOrg.Silo.Workers;

/// <summary>
/// The HTTP workers connected to this silo, one session per agent id, and the loop that keeps them connected. A
/// session renews its connection to the agent grain (<see cref="IAgentGrain.ConnectAsync(IAgentWorker, IReadOnlyList{string})"/>,
/// the .NET worker's heartbeat) only while its worker shows signs of life here: a poll waiting, or a poll, heartbeat or
/// report since the last renewal. A worker that disappears therefore goes silent on the agent grain at most one
/// renewal period after its last request, and from then on is treated exactly like a .NET worker that crashed: the
/// health monitor finds no heartbeat, the agent goes offline and its tasks are handed back.
/// </summary>
internal sealed partial class HttpWorkerSessions(IGrainFactory grains, NoOrgSettings settings, TimeProvider clock, ILogger<HttpWorkerSessions> logger)
    : BackgroundService
{
    /// <summary>The longest long poll: under the usual 100 s timeouts of HTTP clients and proxies.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, HttpWorkerSession> sessions = new(StringComparer.Ordinal);

    /// <summary>The heartbeat timeout: a worker silent for this long loses its tasks (after the health grace period).</summary>
    public TimeSpan Lease => TimeSpan.FromSeconds(settings.Agents.HeartbeatTimeoutSeconds);

    /// <summary>How often sessions renew their connection, and how often a worker should heartbeat: a third of the lease.</summary>
    public TimeSpan RenewEvery => TimeSpan.FromMilliseconds(Math.Max(500, Lease.TotalMilliseconds / 3));

    /// <summary>
    /// The session of <paramref name="workerId"/> for the agent, connected to the agent grain if it was not lately.
    /// Another worker id of the same agent is refused (409) while the session's worker keeps in touch, as the agent
    /// grain refuses a second .NET worker process.
    /// </summary>
    public async Task<HttpWorkerSession> OpenAsync(string agentId, string workerId)
    {
        var now = clock.GetUtcNow();
        var session = sessions.GetOrAdd(agentId, id => Created(id, workerId, now));
        if (!string.Equals(session.WorkerId, workerId, StringComparison.Ordinal))
        {
            var quiet = now - session.LastContact;
            if (session.WaitingPolls > 0 || quiet < Lease)
            {
                throw new ConflictException(
                    $"Agent {agentId} is already served by HTTP worker '{session.WorkerId}' (last heard from {quiet.TotalSeconds:0}s ago); "
                    + $"only one process may run an agent id. Stop the other process or give this one another agent id. "
                    + $"This one is admitted once the other disconnects or stays silent for {Lease.TotalSeconds:0}s.");
            }

            var replacement = Created(agentId, workerId, now);
            if (sessions.TryUpdate(agentId, replacement, session))
            {
                Retire(session);
                await grains.GetGrain<IAgentGrain>(agentId).DisconnectAsync(session.Reference); // the agent grain admits the new one at once
                session = replacement;
            }
            else
            {
                grains.DeleteObjectReference<IAgentWorker>(replacement.Reference);
                session = sessions[agentId];
            }
        }

        session.Touch(now);
        if (now - session.LastConnect >= RenewEvery)
        {
            try
            {
                await ConnectAsync(session, throwOnFailure: true);
            }
            catch when (session.LastConnect == default && sessions.TryRemove(new KeyValuePair<string, HttpWorkerSession>(agentId, session)))
            {
                Retire(session); // never admitted (no such agent, or another process serves it): keep nothing of it
                throw;
            }
        }

        return session;
    }

    /// <summary>A sign of life from the agent's worker about a task it runs (start, heartbeat). False when no session of the agent is on this silo.</summary>
    public bool Runs(string agentId, string taskId, int attempt)
    {
        if (!sessions.TryGetValue(agentId, out var session))
        {
            return false;
        }

        session.Touch(clock.GetUtcNow());
        session.Runs(taskId, attempt);
        return true;
    }

    /// <summary>The worker reported the task (completed, failed, handed back).</summary>
    public void Done(string agentId, string taskId)
    {
        if (sessions.TryGetValue(agentId, out var session))
        {
            session.Touch(clock.GetUtcNow());
            session.Done(taskId);
        }
    }

    /// <summary>
    /// A clean stop of the worker: the agent goes offline (handing back what it holds, as the .NET worker's default
    /// <c>GoOffline</c> does) and the session disconnects, so a restarted worker is admitted at once.
    /// </summary>
    public async Task<AgentSnapshot> StopAsync(string agentId, string workerId)
    {
        var agent = grains.GetGrain<IAgentGrain>(agentId);
        if (sessions.TryGetValue(agentId, out var session) && !string.Equals(session.WorkerId, workerId, StringComparison.Ordinal))
        {
            throw new ConflictException($"Agent {agentId} is served by HTTP worker '{session.WorkerId}', not '{workerId}': a worker stops only itself.");
        }

        var offline = await agent.SetStatusAsync(AgentStatus.Offline, "its HTTP worker stopped");
        if (session is not null && sessions.TryRemove(new KeyValuePair<string, HttpWorkerSession>(agentId, session)))
        {
            session.Close();
            await agent.DisconnectAsync(session.Reference);
            grains.DeleteObjectReference<IAgentWorker>(session.Reference);
        }

        return offline;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RenewEvery, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = clock.GetUtcNow();
            var due = new List<HttpWorkerSession>();
            foreach (var session in sessions.Values)
            {
                if (session.WaitingPolls == 0 && now - session.LastContact > 2 * Lease)
                {
                    // Long gone: forget it. The agent grain already stopped hearing from it one renewal after its last request.
                    if (sessions.TryRemove(new KeyValuePair<string, HttpWorkerSession>(session.AgentId, session)))
                    {
                        Retire(session);
                        LogForgotten(logger, session.AgentId, session.WorkerId, (now - session.LastContact).TotalSeconds);
                    }
                }
                else if ((session.WaitingPolls > 0 || session.LastContact > session.LastConnect) && now - session.LastConnect >= RenewEvery / 2)
                {
                    due.Add(session);
                }
            }

            // All at once: an agent grain that is slow to answer must not hold up the other workers' renewals.
            await Task.WhenAll(due.Select(s => ConnectAsync(s, throwOnFailure: false)));
        }
    }

    private HttpWorkerSession Created(string agentId, string workerId, DateTimeOffset now)
    {
        var session = new HttpWorkerSession(agentId, workerId, now);
        session.Reference = grains.CreateObjectReference<IAgentWorker>(session);
        return session;
    }

    private void Retire(HttpWorkerSession old)
    {
        old.Close();
        grains.DeleteObjectReference<IAgentWorker>(old.Reference);
    }

    private async Task ConnectAsync(HttpWorkerSession session, bool throwOnFailure)
    {
        if (!await session.Connecting.WaitAsync(throwOnFailure ? Timeout.InfiniteTimeSpan : TimeSpan.Zero))
        {
            return;
        }

        try
        {
            var started = clock.GetUtcNow();
            if (started - session.LastConnect < RenewEvery / 2)
            {
                return; // another request connected it meanwhile
            }

            IReadOnlyList<TaskSnapshot> held = await grains.GetGrain<IAgentGrain>(session.AgentId).ConnectAsync(session.Reference, session.RunningIds);
            session.Connected(started);
            foreach (var task in held)
            {
                session.Offer(task); // held tasks the worker is not running: resumed, as a restarted .NET worker resumes them
            }
        }
        catch (Exception e) when (!throwOnFailure) // the loop never ends on a failure: it logs and renews next time
        {
            LogRenewFailed(logger, session.AgentId, session.WorkerId, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            session.Connecting.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP worker {WorkerId} of agent {AgentId} forgotten after {QuietSeconds:0}s without a request")]
    private static partial void LogForgotten(ILogger logger, string agentId, string workerId, double quietSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HTTP worker {WorkerId} of agent {AgentId}: renewing its connection failed ({Reason}); retrying at the next renewal")]
    private static partial void LogRenewFailed(ILogger logger, string agentId, string workerId, string reason);
}
