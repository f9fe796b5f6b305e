namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>Event type names webhooks subscribe to: a prefix and the action in kebab case (<c>task.dependency-satisfied</c>).</summary>
public static class OutboxEventTypes
{
    public static string For<TAction>(string prefix, TAction action)
        where TAction : struct, Enum =>
        prefix + "." + string.Concat(action.ToString().Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));
}
