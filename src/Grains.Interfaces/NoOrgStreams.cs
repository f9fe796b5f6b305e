namespace NoOrg.Grains;

/// <summary>
/// Where clients follow changes. Events are published after the change is durable; delivery is best effort
/// (a client that was away reads the history instead).
/// </summary>
public static class NoOrgStreams
{
    public const string Provider = "noorg";

    /// <summary>Namespace of <see cref="Tasks.TaskEvent"/> streams; the key is the task id, or <see cref="AllKey"/> for every task.</summary>
    public const string Tasks = "noorg.tasks";

    /// <summary>Namespace of <see cref="Agents.AgentEvent"/> streams; the key is the agent id, or <see cref="AllKey"/> for every agent.</summary>
    public const string Agents = "noorg.agents";

    /// <summary>Namespace of <see cref="Sagas.SagaLogEntry"/> streams; the key is the saga id, or <see cref="AllKey"/> for every saga.</summary>
    public const string Sagas = "noorg.sagas";

    public const string AllKey = "*";

    public static StreamId TaskStream(string taskId) => StreamId.Create(Tasks, taskId);

    public static StreamId AllTasksStream { get; } = StreamId.Create(Tasks, AllKey);

    public static StreamId AgentStream(string agentId) => StreamId.Create(Agents, agentId);

    public static StreamId AllAgentsStream { get; } = StreamId.Create(Agents, AllKey);

    public static StreamId SagaStream(string sagaId) => StreamId.Create(Sagas, sagaId);

    public static StreamId AllSagasStream { get; } = StreamId.Create(Sagas, AllKey);
}
