using NoOrg.Configuration;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>A silo killed between a grain's state write and the delivery: the message still arrives, once.</summary>
[Collection(PostgresCluster.Name)]
public sealed class OutboxCrashTests
{
    [SkippableFact]
    public async Task A_silo_killed_between_the_state_write_and_the_delivery_loses_nothing_and_duplicates_nothing()
    {
        await OwnCluster.RunAsync(StorageProvider.Postgres, new Dictionary<string, string> { ["NOORG_OUTBOX_SWEEP_SECONDS"] = "1" }, async cluster =>
        {
            // The producer lives on the secondary silo, so the client's gateway (the primary) survives the kill.
            var secondary = cluster.SecondarySilos[0];
            IOutboxProbeGrain? producer = null;
            for (var i = 0; i < 200 && producer is null; i++)
            {
                var candidate = cluster.Client.GetGrain<IOutboxProbeGrain>("crash-" + Guid.NewGuid().ToString("N")[..10]);
                if ((await candidate.WhereAsync()).Contains(secondary.SiloAddress.ToString(), StringComparison.Ordinal))
                {
                    producer = candidate;
                }
            }

            Assert.NotNull(producer);
            var receiverKey = "rx-" + Guid.NewGuid().ToString("N")[..10];
            var receiver = cluster.Client.GetGrain<IInboxReceiverGrain>(receiverKey);

            // The state write with its message is durable; the activation stops right there (the fault hook).
            var ids = await producer.RecordAsync(1, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: true);
            Assert.Empty(await receiver.EffectsAsync());
            Assert.Equal(0, OutboxFaults.DeliveriesTo(receiverKey));

            await cluster.KillSiloAsync(secondary);

            var effects = await Eventually.ReturnsAsync(receiver.EffectsAsync, e => e.Count > 0, TimeSpan.FromSeconds(60), "the message after the kill");
            Assert.Equal(ids, effects);
            await Eventually.ReturnsAsync(producer.GetOutboxAsync, o => o.Count == 0, TimeSpan.FromSeconds(30), "the producer's outbox emptied");
            Assert.Equal(ids, await receiver.EffectsAsync());
            Assert.DoesNotContain(secondary.SiloAddress.ToString(), await producer.WhereAsync(), StringComparison.Ordinal);
        });
    }
}
