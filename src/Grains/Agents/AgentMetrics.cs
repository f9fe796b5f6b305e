using System.Diagnostics.Metrics;

namespace NoOrg.Grains.Agents;

/// <summary>Heartbeats as the agent grains see them, on the silo hosting each agent. Tag: <c>agent_type</c>.</summary>
internal static class AgentMetrics
{
    public const string MeterName = "NoOrg.Agents";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Heartbeats = Meter.CreateCounter<long>("noorg.agents.heartbeats", "{heartbeat}", "Heartbeats received from agents");
    private static readonly Counter<long> Late = Meter.CreateCounter<long>("noorg.agents.heartbeats.late", "{heartbeat}",
        "Heartbeats that came later than the heartbeat timeout after the previous one (the agent had gone silent)");

    public static void Heartbeat(string agentType, DateTimeOffset? previous, DateTimeOffset now, TimeSpan timeout)
    {
        var type = new KeyValuePair<string, object?>("agent_type", agentType);
        Heartbeats.Add(1, type);
        if (previous is { } last && now - last > timeout)
        {
            Late.Add(1, type);
        }
    }
}
