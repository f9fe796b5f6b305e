using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>A grain embedding an outbox, as any NoOrg grain would: it records messages with its own state write.</summary>
[Alias("noorg.tests.outbox-probe")]
public interface IOutboxProbeGrain : IGrainWithStringKey, IOutboxGrain
{
    /// <summary>
    /// Records <paramref name="count"/> messages for <paramref name="target"/> in one state write and returns their ids.
    /// <paramref name="crashAfterWrite"/> is the fault-injection hook: the write happens, and this activation never
    /// delivers (as if the silo died right after the write); only a new activation does.
    /// </summary>
    [Alias("record")] Task<IReadOnlyList<string>> RecordAsync(int count, OutboxTarget target, bool crashAfterWrite);

    [Alias("where")] Task<string> WhereAsync();

    /// <summary>Ends this activation when idle (the next call, or the sweeper, activates it afresh from storage).</summary>
    [Alias("deactivate")] Task DeactivateAsync();
}

[GenerateSerializer, Alias("noorg.tests.outbox-probe-state")]
public sealed record OutboxProbeState
{
    [Id(0)] public int Recorded { get; init; }
    [Id(1)] public OutboxState Outbox { get; init; } = new();
}

public sealed class OutboxProbeGrain(
    [PersistentState(OutboxProbeGrain.StateName, StorageNames.Default)] IPersistentState<OutboxProbeState> state,
    OutboxRelayFactory outboxes) : Grain, IOutboxProbeGrain
{
    public const string StateName = "outbox-probe";
    private OutboxRelay? relay;
    private bool crashed;

    private OutboxRelay Outbox => relay ??= outboxes.Create(this, StateName, () => state.State.Outbox, o => state.State = state.State with { Outbox = o });

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Outbox.Activated(state.RecordExists);
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<string>> RecordAsync(int count, OutboxTarget target, bool crashAfterWrite)
    {
        var key = this.GetPrimaryKeyString();
        var outbox = state.State.Outbox;
        var ids = new List<string>();
        for (var n = state.State.Recorded + 1; n <= state.State.Recorded + count; n++)
        {
            var id = $"probe:{key}:{n}";
            ids.Add(id);
            outbox = outbox.Add(new OutboxMessage(id, "probe.recorded", "probe/" + key, "probe", $$"""{"n":{{n}}}""", DateTimeOffset.UtcNow), [target]);
        }

        state.State = state.State with { Recorded = state.State.Recorded + count, Outbox = outbox };
        await state.WriteStateAsync();
        crashed = crashAfterWrite;
        if (!crashed)
        {
            Outbox.Written();
        }

        return ids;
    }

    // A "crashed" activation must not deliver either when the sweeper knocks: only a new activation may.
    public Task<int> DeliverOutboxAsync() => crashed ? Task.FromResult(0) : Outbox.DeliverDueAsync();

    public Task<IReadOnlyList<OutboxEntryView>> GetOutboxAsync() => Outbox.ViewAsync();

    public Task<int> RetryDeadLettersAsync(string? messageId) => Outbox.RetryDeadAsync(messageId);

    public Task<string> WhereAsync() => Task.FromResult(RuntimeIdentity);

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>An inbox-guarded receiver whose effect (a row per handled message) shares the inbox's transaction.</summary>
[Alias("noorg.tests.inbox-receiver")]
public interface IInboxReceiverGrain : IGrainWithStringKey, IOutboxReceiver
{
    /// <summary>The message ids whose effect is stored, once per handling (a duplicate would show twice).</summary>
    [Alias("effects")] Task<IReadOnlyList<string>> EffectsAsync();
}

public sealed class InboxReceiverGrain(IInbox inbox, IndexDatabase database) : Grain, IInboxReceiverGrain
{
    private const string EffectsTable = "CREATE TABLE IF NOT EXISTS test_outbox_effects (receiver TEXT NOT NULL, message_id TEXT NOT NULL)";

    private string Receiver => this.GetPrimaryKeyString();

    public async Task ReceiveAsync(OutboxDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        OutboxFaults.Deliveries.Enqueue((Receiver, delivery.Message.Id, delivery.Attempt));
        OutboxFaults.ThrowIfPlanned(Receiver, before: true);
        await EnsureTableAsync();
        await inbox.HandleOnceAsync(Receiver, delivery.Message.Id, async (connection, transaction) =>
        {
            await using var effect = connection.CreateCommand(transaction, "INSERT INTO test_outbox_effects (receiver, message_id) VALUES (@r, @m)");
            effect.AddParameter("r", Receiver);
            effect.AddParameter("m", delivery.Message.Id);
            await effect.ExecuteNonQueryAsync();
        });

        // After the effect and its inbox record are committed: the sender sees a failure and delivers again.
        OutboxFaults.ThrowIfPlanned(Receiver, before: false);
    }

    public async Task<IReadOnlyList<string>> EffectsAsync()
    {
        await EnsureTableAsync();
        await using var connection = await Open();
        await using var select = connection.CreateCommand(null, "SELECT message_id FROM test_outbox_effects WHERE receiver = @r ORDER BY message_id");
        select.AddParameter("r", Receiver);
        var ids = new List<string>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private async Task EnsureTableAsync()
    {
        await using var connection = await Open();
        await using var create = connection.CreateCommand(null, EffectsTable);
        await create.ExecuteNonQueryAsync();
    }

    private Task<DbConnection> Open() => database.OpenAsync(CancellationToken.None);
}

/// <summary>Fault injection shared by the in-process test silos: planned failures per receiver, and every delivery seen.</summary>
public static class OutboxFaults
{
    private static readonly ConcurrentDictionary<string, (int Before, int After)> Plans = new(StringComparer.Ordinal);

    public static ConcurrentQueue<(string Receiver, string MessageId, int Attempt)> Deliveries { get; } = new();

    /// <summary>The next <paramref name="before"/> deliveries fail before handling, the <paramref name="after"/> after those fail after it.</summary>
    public static void Plan(string receiver, int before, int after) => Plans[receiver] = (before, after);

    public static int DeliveriesTo(string receiver) => Deliveries.Count(d => d.Receiver == receiver);

    internal static void ThrowIfPlanned(string receiver, bool before)
    {
        while (Plans.TryGetValue(receiver, out var plan))
        {
            var remaining = before ? plan.Before : plan.After;
            if (remaining <= 0 || (!before && plan.Before > 0))
            {
                return;
            }

            var next = before ? plan with { Before = remaining - 1 } : plan with { After = remaining - 1 };
            if (Plans.TryUpdate(receiver, next, plan))
            {
                throw new InvalidOperationException($"injected failure {(before ? "before" : "after")} handling");
            }
        }
    }
}

[TestSiloExtension]
public sealed class OutboxTestSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder) => siloBuilder.Services.AddOutboxHost<IOutboxProbeGrain>(OutboxProbeGrain.StateName);
}
