namespace NoOrg.Grains.Dispatch;

/// <summary>
/// The agents a dispatch pool may place on, and how much room each has as the pool sees it: what the agent last
/// reported, plus the placements this pool has started on it since. Pure and single-threaded (the pool grain calls it
/// between awaits). Three sources disagree in time, and this class decides which one wins:
/// <list type="bullet">
/// <item>room notices from the agent grain, which may be older than a placement (they travel one-way, by another path);</item>
/// <item>refreshes read from the agent index, which may predate anything that happened here while the query ran;</item>
/// <item>the pool's own placements, which the agent accepted or refused.</item>
/// </list>
/// </summary>
internal sealed class AgentView
{
    private readonly Dictionary<string, Agent> agents = new(StringComparer.Ordinal);

    /// <summary>The best agent with room: healthy before degraded, then least loaded (share, then count, then id).</summary>
    public AgentRoom? Best()
    {
        AgentRoom? best = null;
        foreach (var agent in agents.Values)
        {
            if (agent.Room is { } room && room.Active < room.Max && (best is null || room.IsBetterThan(best)))
            {
                best = room;
            }
        }

        return best;
    }

    public AgentRoom? RoomOf(string agentId) => agents.GetValueOrDefault(agentId)?.Room;

    /// <summary>How many notices this view has heard from the agent: a placement compares it before and after.</summary>
    public long NoticesOf(string agentId) => agents.GetValueOrDefault(agentId)?.Notices ?? 0;

    /// <summary>
    /// A room notice from the agent. One that cannot know of this pool's placements (they are still in flight, or it
    /// describes a state older than the last one) may raise the count, never lower it, and its "no room" is older
    /// than the reservation the agent accepted since. Returns whether the agent now has room in the view.
    /// </summary>
    public bool Heard(AgentCapacity notice)
    {
        var agent = Of(notice.AgentId);
        agent.Notices++;
        agent.Touched++;
        var older = agent.InFlight > 0 || (notice.StateAt is { } at && agent.LastPlacedAt is { } placedAt && at < placedAt);
        if (notice.HasRoom)
        {
            var active = older && agent.Room is { } known ? Math.Max(known.Active, notice.ActiveTasks) : notice.ActiveTasks;
            agent.Room = new AgentRoom(notice.AgentId, active, notice.MaxConcurrentTasks, notice.Degraded);
            return true;
        }

        if (!older)
        {
            agent.Room = null;
        }

        return false;
    }

    /// <summary>A placement on the agent starts: the pool counts the slot as taken until the agent says otherwise.</summary>
    public void Placing(string agentId)
    {
        var agent = Of(agentId);
        if (agent.Room is { } room)
        {
            agent.Room = room with { Active = room.Active + 1 };
        }

        agent.Touched++;
        agent.InFlight++;
    }

    /// <summary>
    /// A placement that does not answer gives its slot back: the view no longer counts it, nor treats it as in flight.
    /// <see cref="PlacementEnded"/> is then not called for it.
    /// </summary>
    public void GiveBack(string agentId)
    {
        var agent = Of(agentId);
        if (agent.Room is { Active: > 0 } room)
        {
            agent.Room = room with { Active = room.Active - 1 };
        }

        agent.Touched++;
        agent.InFlight = Math.Max(0, agent.InFlight - 1);
    }

    /// <summary>A placement given back went through after all: the agent holds one task more than the view counted.</summary>
    public void Accepted(string agentId)
    {
        var agent = Of(agentId);
        if (agent.Room is { } room)
        {
            agent.Room = room with { Active = room.Active + 1 };
        }

        agent.Touched++;
    }

    /// <summary>The agent accepted the placement at <paramref name="at"/>.</summary>
    public void Placed(string agentId, DateTimeOffset at) => Of(agentId).LastPlacedAt = at;

    /// <summary>
    /// The agent refused: it leaves the view until it reports room again, unless it already did while the refusal was
    /// on its way (<paramref name="noticesBefore"/>, from <see cref="NoticesOf"/> when the placement began).
    /// </summary>
    public void Refused(string agentId, long noticesBefore)
    {
        var agent = Of(agentId);
        if (agent.Notices == noticesBefore)
        {
            agent.Room = null;
        }
    }

    /// <summary>The placement failed and whose fault it was is unknown: the agent leaves the view until it reports room.</summary>
    public void Drop(string agentId) => Of(agentId).Room = null;

    /// <summary>The placement ended, however it ended.</summary>
    public void PlacementEnded(string agentId)
    {
        var agent = Of(agentId);
        agent.Touched++;
        agent.InFlight = Math.Max(0, agent.InFlight - 1);
    }

    /// <summary>Marks the start of a refresh from the index; pass the mark to <see cref="Refreshed"/>.</summary>
    public RefreshMark BeginRefresh() => new(agents.ToDictionary(a => a.Key, a => a.Value.Touched, StringComparer.Ordinal));

    /// <summary>
    /// The index answered: its candidates replace the view, except for agents whose room changed here while the query
    /// ran or that have placements in flight, which the index cannot know of yet.
    /// </summary>
    public void Refreshed(RefreshMark mark, IEnumerable<AgentRoom> candidates)
    {
        bool Newer(Agent agent) => agent.InFlight > 0 || agent.Touched != mark.Touched.GetValueOrDefault(agent.Id);
        foreach (var agent in agents.Values.Where(a => !Newer(a)))
        {
            agent.Room = null;
        }

        foreach (var candidate in candidates)
        {
            var agent = Of(candidate.Id);
            if (!Newer(agent))
            {
                agent.Room = candidate;
            }
        }
    }

    private Agent Of(string agentId)
    {
        if (!agents.TryGetValue(agentId, out var agent))
        {
            agent = new Agent(agentId);
            agents[agentId] = agent;
        }

        return agent;
    }

    /// <summary>What the view knows of one agent.</summary>
    private sealed class Agent(string id)
    {
        public string Id { get; } = id;

        /// <summary>Its room as the pool sees it; null while the pool may not place on it.</summary>
        public AgentRoom? Room { get; set; }

        /// <summary>Room notices heard: a refusal that raced a newer notice must not drop the agent.</summary>
        public long Notices { get; set; }

        /// <summary>How often its room changed here (a notice, a placement started or ended): a refresh that raced such a change keeps it.</summary>
        public long Touched { get; set; }

        /// <summary>Placements running on it; neither the index nor a notice sent before them can know of them.</summary>
        public int InFlight { get; set; }

        /// <summary>When this pool last placed a task on it: a notice about an older state cannot know of it.</summary>
        public DateTimeOffset? LastPlacedAt { get; set; }
    }

    /// <summary>What a refresh started from: how often each agent's room had changed.</summary>
    internal sealed record RefreshMark(IReadOnlyDictionary<string, long> Touched);
}

/// <summary>An agent as a pool sees it: its room counts the placements the pool has started on it.</summary>
internal sealed record AgentRoom(string Id, int Active, int Max, bool Degraded)
{
    public bool IsBetterThan(AgentRoom other) =>
        Degraded != other.Degraded ? !Degraded
        : (double)Active / Max != (double)other.Active / other.Max ? (double)Active / Max < (double)other.Active / other.Max
        : Active != other.Active ? Active < other.Active
        : string.CompareOrdinal(Id, other.Id) < 0;
}
