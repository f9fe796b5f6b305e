namespace NoOrg.Grains.Health;

/// <summary>What an agent's monitor keeps durably: its verdict, the windows it judges, overrides, history and issues.</summary>
[GenerateSerializer, Alias("noorg.health.monitor-state")]
public sealed record AgentHealthState
{
    [Id(0)] public bool Monitoring { get; init; }
    [Id(1)] public HealthStatus Status { get; init; }
    [Id(2)] public IReadOnlyList<string> Reasons { get; init; } = [];

    /// <summary>Since when the agent has been unhealthy without a break; the grace period counts from here.</summary>
    [Id(3)] public DateTimeOffset? UnhealthySince { get; init; }
    [Id(4)] public IReadOnlyList<TaskOutcome> Outcomes { get; init; } = [];
    [Id(5)] public IReadOnlyList<UptimeSegment> Uptime { get; init; } = [];
    [Id(6)] public HealthOverrides Overrides { get; init; } = new();
    [Id(7)] public IReadOnlyList<HealthStatusChange> History { get; init; } = [];

    /// <summary>Open issues and the newest resolved ones (every issue is kept in the health index).</summary>
    [Id(8)] public IReadOnlyList<HealthIssue> Issues { get; init; } = [];
    [Id(9)] public int IssueCount { get; init; }
    [Id(10)] public IReadOnlyList<HealthCheckResult> Checks { get; init; } = [];
    [Id(11)] public int ConsecutiveFailures { get; init; }
    [Id(12)] public long Version { get; init; }
    [Id(13)] public DateTimeOffset? CheckedAt { get; init; }
    [Id(14)] public DateTimeOffset? LastHeartbeatAt { get; init; }

    /// <summary>Set while the agent is offline with nothing to watch: no timer, no reminder, until it comes back.</summary>
    [Id(15)] public DateTimeOffset? QuietSince { get; init; }
}

/// <summary>A stretch of monitored time during which the agent's heartbeat was fresh (up) or not.</summary>
[GenerateSerializer, Immutable, Alias("noorg.health.uptime-segment")]
public sealed record UptimeSegment(DateTimeOffset From, DateTimeOffset To, bool Up);
