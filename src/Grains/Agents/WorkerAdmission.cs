using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Agents;

/// <summary>
/// One worker process serves an agent id at a time: the first to connect, for as long as it keeps in touch. Another
/// process connecting with the same id meanwhile is refused with a <see cref="ConflictException"/>; it is admitted
/// once the first disconnects or has been silent for <paramref name="silence"/> (the heartbeat timeout), and the silent
/// one is dropped. Kept in memory: after the agent grain moves, the first process to reconnect is admitted.
/// </summary>
internal sealed class WorkerAdmission(TimeSpan silence)
{
    private IAgentWorker? current;
    private DateTimeOffset lastSeen;

    /// <summary>Admits <paramref name="worker"/> or throws; returns the silent worker it replaced, if any.</summary>
    public IAgentWorker? Admit(string agentId, IAgentWorker worker, DateTimeOffset now)
    {
        if (current is null || current.Equals(worker))
        {
            current = worker;
            lastSeen = now;
            return null;
        }

        var quiet = now - lastSeen;
        if (quiet < silence)
        {
            throw new ConflictException(
                $"Agent {agentId} is already served by another worker process (last heard from {quiet.TotalSeconds:0}s ago); "
                + $"only one process may run an agent id. Stop the other process or give this one another agent id. "
                + $"This one is admitted once the other disconnects or stays silent for {silence.TotalSeconds:0}s.");
        }

        var replaced = current;
        current = worker;
        lastSeen = now;
        return replaced;
    }

    public void Leave(IAgentWorker worker)
    {
        if (current is not null && current.Equals(worker))
        {
            current = null;
        }
    }
}
