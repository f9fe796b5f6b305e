using NoOrg.Grains.Agents;

namespace NoOrg.Client.Workers;

/// <summary>Who the worker is as an agent, and how it keeps in touch with the cluster.</summary>
public sealed class AgentWorkerOptions
{
    /// <summary>The agent id; stable across restarts of the worker so it resumes its own tasks.</summary>
    public string AgentId { get; set; } = "";

    public AgentRegistration Registration { get; set; } = new("", "", "", [], 1, new Dictionary<string, string>());

    /// <summary>How often the worker reconnects (which is also its heartbeat); keep it well under the heartbeat timeout.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to keep retrying a completion or failure report while the cluster is unreachable.</summary>
    public TimeSpan ReportPatience { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>What the application does with a task. Return the result as JSON; throw to fail the attempt.</summary>
public interface IAgentTaskHandler
{
    Task<string> HandleAsync(Grains.Tasks.TaskSnapshot task, CancellationToken cancellationToken);
}
