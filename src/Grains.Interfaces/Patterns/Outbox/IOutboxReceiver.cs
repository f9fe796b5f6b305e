using NoOrg.Grains.Security;
namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// A grain that outbox messages can be delivered to. Delivery is at least once: the same message id can arrive
/// again (after a retry, a crash, a sweep), so a receiver guards its effect with the inbox (<c>IInbox</c>) or
/// makes the effect itself keyed by the message id. Throwing means "not handled": the message comes again later.
/// </summary>
[Alias("noorg.outbox.receiver")]
public interface IOutboxReceiver : IGrain
{
    [Alias("receive"), Requires(AccessRole.Admin)] Task ReceiveAsync(OutboxDelivery delivery);
}
