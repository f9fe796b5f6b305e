using NoOrg.Grains;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Storage;
using NoOrg.Storage.Migrations;
using NoOrg.Tests.Infrastructure;
using NoOrg.Tests.Storage;

namespace NoOrg.Tests.Patterns.Outbox;

/// <summary>
/// Migration 0015 and its triggers on states written as the grain storage writes them: an outbox stored in a state
/// by the earlier design becomes rows, and a state write records exactly the messages new in it.
/// </summary>
public sealed class OutboxMigrationTests
{
    private const string StateName = "outbox-probe";
    private static readonly DateTimeOffset At = new(2026, 12, 1, 10, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public Task A_stored_outbox_moves_into_rows_in_order_and_leaves_the_state_on_sqlite() => MovesAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task A_stored_outbox_moves_into_rows_in_order_and_leaves_the_state_on_postgres() => MovesAsync(StorageDialect.Postgres);

    [Fact]
    public Task A_state_write_records_its_new_messages_once_and_a_cleared_state_drops_its_rows_on_sqlite() => RecordsAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task A_state_write_records_its_new_messages_once_and_a_cleared_state_drops_its_rows_on_postgres() => RecordsAsync(StorageDialect.Postgres);

    private static async Task MovesAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString, [.. MigrationCatalog.For(dialect).Where(m => m.Version < 15)]).MigrateAsync();
        var states = new GrainStateRows(dialect, db.ConnectionString, StateName);
        var grain = new OutboxTarget(OutboxTargetKind.Grain, "noorg.tests.inbox-receiver/rx-1");
        var stream = OutboxTarget.Stream("noorg", "tasks", "all");
        var dead = new OutboxEntry(Message(1), OutboxTarget.Webhook("wh-1"), 5, null, "HttpRequestException: refused");
        OutboxEntry[] pending =
        [
            new(Message(2), grain, 2, At.AddSeconds(30), "InvalidOperationException: boom"),
            new(Message(2), stream),
            new(Message(3), grain),
        ];
        await states.WriteAsync("legacy", new LegacyState(3, new LegacyOutbox(pending, [dead])));
        await states.WriteAsync("quiet", new LegacyState(0, new LegacyOutbox([], [])));

        var report = await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();

        Assert.Contains(report.AppliedNow, m => m.Version == 15);
        var store = new SqlOutboxStore(new IndexDatabase(dialect, db.ConnectionString));
        var rows = await store.LoadAsync(new OutboxOwner("tests", StateName, "legacy"));
        Assert.Equal([new OutboxRow(dead, Dead: true), .. pending.Select(e => new OutboxRow(e, Dead: false))], rows);

        // The state no longer holds them (nothing can go out twice); a state with an empty outbox was left alone.
        var outbox = dialect == StorageDialect.Postgres ? "payload -> 'Outbox'" : "json_extract(payload, '$.Outbox')";
        Assert.Null(await StorageSql.ScalarAsync(db, $"SELECT {outbox} FROM orleans_grain_state WHERE grain_id_string = 'legacy'"));
        Assert.Equal(2, await states.StoredVersionAsync("legacy"));
        Assert.NotNull(await StorageSql.ScalarAsync(db, $"SELECT {outbox} FROM orleans_grain_state WHERE grain_id_string = 'quiet'"));
        Assert.Equal(1, await states.StoredVersionAsync("quiet"));
        Assert.Empty(await store.LoadAsync(new OutboxOwner("tests", StateName, "quiet")));

        // Neither of 0009's indexes over the grain state is left to make its updates non-HOT (later indexes hold only
        // key columns, which an update never changes).
        var indexes = dialect == StorageDialect.Postgres
            ? "SELECT count(*) FROM pg_indexes WHERE tablename = 'orleans_grain_state' AND indexname IN ('ix_orleans_grain_state_outbox', 'ix_orleans_grain_state_dead_letters')"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orleans_grain_state' AND name IN ('ix_orleans_grain_state_outbox', 'ix_orleans_grain_state_dead_letters')";
        Assert.Equal(0L, Convert.ToInt64(await StorageSql.ScalarAsync(db, indexes), System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task RecordsAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();
        var states = new GrainStateRows(dialect, db.ConnectionString, StateName);
        var store = new SqlOutboxStore(new IndexDatabase(dialect, db.ConnectionString));
        var owner = new OutboxOwner("tests", StateName, "p-1");
        var stream = OutboxTarget.Stream("noorg", "tasks", "p-1");
        var webhook = OutboxTarget.Webhook("wh-1");
        var first = new OutboxState().Add(Message(1), [stream, webhook]);

        await states.WriteAsync("p-1", new ProbeState(1, first));
        Assert.Equal(first.New.Select(e => new OutboxRow(e, Dead: false)), await store.LoadAsync(owner));

        // The same messages written again (a host that did not empty New) are not recorded again, even once delivered.
        await store.DeleteAsync([OutboxRowKey.Of(owner, first.New[0])]);
        await states.WriteAsync("p-1", new ProbeState(1, first));
        Assert.Equal([new OutboxRow(first.New[1], Dead: false)], await store.LoadAsync(owner));

        // A write without messages records none; the next one's messages come after those still waiting.
        await states.WriteAsync("p-1", new ProbeState(2, new OutboxState()));
        var second = new OutboxState().Add(Message(2), [stream]);
        await states.WriteAsync("p-1", new ProbeState(3, second));
        Assert.Equal([first.New[1], second.New[0]], (await store.LoadAsync(owner)).Select(r => r.Entry));

        // Attempts live in the rows; a cleared state takes its rows with it.
        var failed = second.New[0] with { Attempts = 3, NextAttemptAt = At, LastError = "boom" };
        await store.RecordAttemptsAsync(owner, [new OutboxRow(failed, Dead: true)]);
        Assert.Equal(new OutboxRow(failed, Dead: true), (await store.LoadAsync(owner))[^1]);
        Assert.Equal(1, await store.ReviveAsync(owner, failed.Message.Id));
        Assert.Equal(new OutboxRow(failed with { Attempts = 0, NextAttemptAt = null }, Dead: false), (await store.LoadAsync(owner))[^1]);
        await states.ClearAsync("p-1");
        Assert.Empty(await store.LoadAsync(owner));
    }

    private static OutboxMessage Message(int n) => new($"probe:legacy:{n}", "probe.recorded", "probe/legacy", "probe", $$"""{"n":{{n}}}""", At);

    /// <summary>What a host's state held before migration 0015: every message still to deliver, and the dead letters.</summary>
    private sealed record LegacyOutbox(IReadOnlyList<OutboxEntry> Pending, IReadOnlyList<OutboxEntry> Dead);

    private sealed record LegacyState(int Recorded, LegacyOutbox Outbox);

    private sealed record ProbeState(int Recorded, OutboxState Outbox);
}
