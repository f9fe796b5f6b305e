using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// A grain that embeds an outbox (its messages are recorded with its own state writes and kept as rows until
/// delivered). The outbox sweeper calls <see cref="DeliverOutboxAsync"/> to wake grains whose rows are left over;
/// operators see and retry dead letters through the other two.
/// </summary>
[Alias("noorg.outbox.host")]
public interface IOutboxGrain : IGrain
{
    /// <summary>Reads the grain's outbox rows and delivers the messages that are due now; returns how many are still pending.</summary>
    [Alias("deliver-outbox"), Requires(AccessRole.Admin)] Task<int> DeliverOutboxAsync();

    /// <summary>Pending messages first (in order), then dead letters.</summary>
    [Alias("get-outbox")] Task<IReadOnlyList<OutboxEntryView>> GetOutboxAsync();

    /// <summary>Moves dead letters (all, or the one with <paramref name="messageId"/>) back to pending with fresh attempts.</summary>
    [Alias("retry-dead-letters")] Task<int> RetryDeadLettersAsync(string? messageId);
}
