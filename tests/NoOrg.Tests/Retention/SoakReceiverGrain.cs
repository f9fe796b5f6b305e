using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Tests.Retention;

/// <summary>A receiver that remembers each message it handles in the inbox and has no effect of its own: the soak's inbox load.</summary>
[Alias("noorg.tests.soak-receiver")]
public interface ISoakReceiverGrain : IGrainWithStringKey
{
    /// <summary>Handles <paramref name="messageId"/> once; false if it was handled before (within the inbox's retention).</summary>
    [Alias("handle")] Task<bool> HandleAsync(string messageId);
}

public sealed class SoakReceiverGrain(IInbox inbox) : Grain, ISoakReceiverGrain
{
    public Task<bool> HandleAsync(string messageId) =>
        inbox.HandleOnceAsync(this.GetPrimaryKeyString(), messageId, (_, _) => Task.CompletedTask);
}
