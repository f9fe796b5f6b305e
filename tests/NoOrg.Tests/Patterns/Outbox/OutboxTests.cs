using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>The relay delivers at least once with back-off; the inbox turns that into exactly-once handling.</summary>
public abstract class OutboxTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task A_receiver_failing_N_times_then_recovering_handles_every_message_exactly_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var receiverKey = "rx-" + Guid.NewGuid().ToString("N")[..10];
        var receiver = fixture.Client.GetGrain<IInboxReceiverGrain>(receiverKey);
        var probe = fixture.Client.GetGrain<IOutboxProbeGrain>("probe-" + Guid.NewGuid().ToString("N")[..10]);

        // Two failures before handling (nothing happened), then two after it (handled and committed, but the sender
        // saw an error): four failed deliveries in all, the last two of them duplicates the inbox must absorb.
        OutboxFaults.Plan(receiverKey, before: 2, after: 2);
        var ids = await probe.RecordAsync(5, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: false);

        await Eventually.ReturnsAsync(probe.GetOutboxAsync, o => o.Count == 0, Wait, "an empty outbox");
        var effects = await receiver.EffectsAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), effects);
        Assert.Equal(5 + 4, OutboxFaults.DeliveriesTo(receiverKey));

        // Order per target held: the first message took every failed attempt, the others went through first time.
        var first = OutboxFaults.Deliveries.Where(d => d.Receiver == receiverKey && d.MessageId == ids[0]).Select(d => d.Attempt).ToArray();
        Assert.Equal([1, 2, 3, 4, 5], first);
        Assert.All(ids.Skip(1), id => Assert.Single(OutboxFaults.Deliveries, d => d.Receiver == receiverKey && d.MessageId == id));
    }

    [SkippableFact]
    public async Task A_message_that_keeps_failing_is_dead_lettered_visibly_and_an_operator_can_retry_it()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var receiverKey = "rx-" + Guid.NewGuid().ToString("N")[..10];
        var receiver = fixture.Client.GetGrain<IInboxReceiverGrain>(receiverKey);
        var probeKey = "probe-" + Guid.NewGuid().ToString("N")[..10];
        var probe = fixture.Client.GetGrain<IOutboxProbeGrain>(probeKey);
        OutboxFaults.Plan(receiverKey, before: 1000, after: 0);

        var ids = await probe.RecordAsync(1, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: false);

        var dead = await Eventually.ReturnsAsync(probe.GetOutboxAsync, o => o.Count == 1 && o[0].Dead, Wait, "a dead letter");
        Assert.Equal(ids[0], dead[0].MessageId);
        Assert.Equal(5, dead[0].Attempts); // NOORG_OUTBOX_MAX_ATTEMPTS of the test clusters
        Assert.Contains("injected failure before handling", dead[0].LastError, StringComparison.Ordinal);

        // The sweeper sees it in the stored state (the attempt counts and the dead letter were persisted).
        var sweeper = fixture.Client.GetGrain<IOutboxSweeperGrain>(IOutboxSweeperGrain.Key);
        Assert.Contains(await sweeper.DeadHostsAsync(1000), h => h.StateName == OutboxProbeGrain.StateName && h.Key == probeKey && h.DeadLetters == 1);
        var summary = await sweeper.SummaryAsync();
        Assert.Contains(summary, s => s.StateName == OutboxProbeGrain.StateName && s.DeadLetters >= 1);

        OutboxFaults.Plan(receiverKey, before: 0, after: 0);
        Assert.Equal(1, await sweeper.RetryAsync(OutboxProbeGrain.StateName, probeKey, null));
        await Eventually.ReturnsAsync(probe.GetOutboxAsync, o => o.Count == 0, Wait, "the retried message delivered");
        Assert.Equal(ids, await receiver.EffectsAsync());
        Assert.DoesNotContain(await sweeper.DeadHostsAsync(1000), h => h.Key == probeKey);
    }

    [SkippableFact]
    public async Task A_grain_whose_stored_outbox_holds_messages_is_woken_by_the_sweeper_and_delivers_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var receiverKey = "rx-" + Guid.NewGuid().ToString("N")[..10];
        var receiver = fixture.Client.GetGrain<IInboxReceiverGrain>(receiverKey);
        var probe = fixture.Client.GetGrain<IOutboxProbeGrain>("probe-" + Guid.NewGuid().ToString("N")[..10]);

        var ids = await probe.RecordAsync(2, OutboxTarget.Grain(receiver.GetGrainId()), crashAfterWrite: true);
        Assert.Empty(await receiver.EffectsAsync());

        // The written-but-undelivered activation goes away (as with a crash); the sweeper finds the stored messages.
        await probe.DeactivateAsync();
        var sweeper = fixture.Client.GetGrain<IOutboxSweeperGrain>(IOutboxSweeperGrain.Key);
        await Eventually.ReturnsAsync(async () => (await sweeper.SweepNowAsync(), await receiver.EffectsAsync()).Item2,
            e => e.Count == 2, Wait, "the sweeper-driven delivery");
        Assert.Equal(ids, await receiver.EffectsAsync());
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteOutboxTests(SqliteClusterFixture fixture) : OutboxTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresOutboxTests(PostgresClusterFixture fixture) : OutboxTests(fixture);
