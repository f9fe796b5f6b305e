namespace NoOrg.Grains;

/// <summary>
/// The cluster's stream provider, for apps whose own grains publish through the outbox to a stream
/// (<c>OutboxTarget.Stream</c>). NoOrg's own changes are not streamed: they are pushed to watchers
/// (<see cref="Watching.WatchHubs"/>, and the <c>WatchAsync</c> methods of the task, agent and saga grains).
/// </summary>
public static class NoOrgStreams
{
    public const string Provider = "noorg";
}
