using System.Data;
using System.Text;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Storage;

/// <summary>
/// The stored queries run directly, with parameters typed and result columns read the way the Orleans providers
/// do: pins the version, ETag and range rules that the providers rely on without starting a silo.
/// </summary>
public sealed class OrleansQuerySemanticsTests
{
    private const string ServiceId = "semantics-service";

    [Fact]
    public Task Grain_state_versions_guard_every_write_on_sqlite() => GrainStateVersionsGuardEveryWriteAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Grain_state_versions_guard_every_write_on_postgres() => GrainStateVersionsGuardEveryWriteAsync(StorageDialect.Postgres);

    [Fact]
    public Task Absent_and_empty_key_extensions_are_different_grains_on_sqlite() => AbsentAndEmptyKeyExtensionsAreDifferentGrainsAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Absent_and_empty_key_extensions_are_different_grains_on_postgres() => AbsentAndEmptyKeyExtensionsAreDifferentGrainsAsync(StorageDialect.Postgres);

    [Fact]
    public Task Reminder_ranges_follow_the_signed_ring_including_wrap_around_on_sqlite() => ReminderRangesFollowTheRingAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Reminder_ranges_follow_the_signed_ring_including_wrap_around_on_postgres() => ReminderRangesFollowTheRingAsync(StorageDialect.Postgres);

    [Fact]
    public Task Reminder_versions_guard_deletes_on_sqlite() => ReminderVersionsGuardDeletesAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Reminder_versions_guard_deletes_on_postgres() => ReminderVersionsGuardDeletesAsync(StorageDialect.Postgres);

    [PostgresFact]
    public async Task Membership_writes_succeed_only_against_the_current_table_version()
    {
        await using var db = await MigratedAsync(StorageDialect.Postgres);
        var cluster = new Param("DeploymentId", "cluster-a", DbType.String);
        var silo = Silo("10.0.0.1", 11111, 7);
        var aliveAt = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);

        Assert.True(SingleBool(await Run(db, "InsertMembershipVersionKey", cluster)));
        Assert.False(SingleBool(await Run(db, "InsertMembershipVersionKey", cluster)));

        var empty = Assert.Single(await Run(db, "MembershipReadAllKey", cluster));
        Assert.Null(empty["StartTime"]);
        Assert.Equal(0, Convert.ToInt32(empty["Version"]));

        Param[] insert(int version) =>
        [
            cluster, .. silo,
            new("SiloName", "silo-1", DbType.String), new("HostName", "host-1", DbType.String),
            new("Status", 3, DbType.Int32), new("ProxyPort", 30000, DbType.Int32),
            new("StartTime", aliveAt, DbType.DateTime), new("IAmAliveTime", aliveAt, DbType.DateTime),
            new("Version", version, DbType.Int32),
        ];
        Assert.True(SingleBool(await Run(db, "InsertMembershipKey", insert(0))));
        Assert.False(SingleBool(await Run(db, "InsertMembershipKey", insert(0))));
        Assert.False(SingleBool(await Run(db, "InsertMembershipKey", insert(1))));

        var row = Assert.Single(await Run(db, "MembershipReadRowKey", [cluster, .. silo]));
        Assert.Equal(1, Convert.ToInt32(row["Version"]));
        Assert.Equal("silo-1", row["SiloName"]);
        Assert.Equal(aliveAt, (DateTime)row["StartTime"]!);

        Param[] update(int version, int status) =>
        [
            cluster, .. silo,
            new("IAmAliveTime", aliveAt, DbType.DateTime), new("Status", status, DbType.Int32),
            new("SuspectTimes", null, DbType.String), new("Version", version, DbType.Int32),
        ];
        Assert.False(SingleBool(await Run(db, "UpdateMembershipKey", update(0, 6))));
        Assert.True(SingleBool(await Run(db, "UpdateMembershipKey", update(1, 3))));

        await Run(db, "UpdateIAmAlivetimeKey", [cluster, .. silo, new("IAmAliveTime", aliveAt.AddMinutes(1), DbType.DateTime)]);
        var all = Assert.Single(await Run(db, "MembershipReadAllKey", cluster));
        Assert.Equal(2, Convert.ToInt32(all["Version"]));
        Assert.Equal(aliveAt.AddMinutes(1), (DateTime)all["IAmAliveTime"]!);

        var gateway = Assert.Single(await Run(db, "GatewaysQueryKey", cluster, new Param("Status", 3, DbType.Int32)));
        Assert.Equal("10.0.0.1", gateway["Address"]);
        Assert.Equal(30000, Convert.ToInt32(gateway["ProxyPort"]));

        Assert.True(SingleBool(await Run(db, "UpdateMembershipKey", update(2, 6))));
        await Run(db, "CleanupDefunctSiloEntriesKey", cluster, new Param("IAmAliveTime", aliveAt.AddMinutes(2), DbType.DateTime));
        Assert.Null(Assert.Single(await Run(db, "MembershipReadAllKey", cluster))["Address"]);

        await Run(db, "DeleteMembershipTableEntriesKey", cluster);
        Assert.Empty(await Run(db, "MembershipReadAllKey", cluster));
    }

    private static async Task GrainStateVersionsGuardEveryWriteAsync(StorageDialect dialect)
    {
        await using var db = await MigratedAsync(dialect);
        var key = StateKey("agent-1", extension: null);

        Assert.Equal(1, await WriteAsync(db, key, version: null, """{"Text":"first"}"""));
        Assert.Equal(2, await WriteAsync(db, key, version: 1, """{"Text":"second"}"""));
        Assert.Null(await WriteAsync(db, key, version: 1, """{"Text":"stale"}"""));
        Assert.Null(await WriteAsync(db, key, version: null, """{"Text":"second activation"}"""));

        var read = Assert.Single(await Run(db, "ReadFromStorageKey", key));
        Assert.Equal(2, Convert.ToInt32(read["Version"]));
        Assert.Equal("second", ParseText((byte[])read["PayloadBinary"]!));

        var cleared = Assert.Single(await Run(db, "ClearStorageKey", [.. key, Version(2)]));
        Assert.Equal(3, Convert.ToInt32(cleared.Values.First()));
        Assert.Null(Assert.Single(await Run(db, "ClearStorageKey", [.. key, Version(2)])).Values.First());
        var afterClear = Assert.Single(await Run(db, "ReadFromStorageKey", key));
        Assert.Null(afterClear["PayloadBinary"]);
        Assert.Equal(3, Convert.ToInt32(afterClear["Version"]));

        Assert.Equal(4, await WriteAsync(db, key, version: 3, """{"Text":"after clear"}"""));
        Assert.Null(Assert.Single(await Run(db, "DeleteStorageKey", [.. key, Version(3)])).Values.First());
        Assert.Equal(5, Convert.ToInt32(Assert.Single(await Run(db, "DeleteStorageKey", [.. key, Version(4)])).Values.First()));
        Assert.Empty(await Run(db, "ReadFromStorageKey", key));

        // A write naming a version must not bring a deleted row back.
        Assert.Null(await WriteAsync(db, key, version: 4, """{"Text":"zombie"}"""));
        Assert.Empty(await Run(db, "ReadFromStorageKey", key));
    }

    private static async Task AbsentAndEmptyKeyExtensionsAreDifferentGrainsAsync(StorageDialect dialect)
    {
        await using var db = await MigratedAsync(dialect);
        var absent = StateKey(null, extension: null, n1: 171);
        var empty = StateKey(null, extension: "", n1: 171);

        Assert.Equal(1, await WriteAsync(db, absent, null, """{"Text":"absent"}"""));
        Assert.Equal(1, await WriteAsync(db, empty, null, """{"Text":"empty"}"""));

        Assert.Equal("absent", ParseText((byte[])Assert.Single(await Run(db, "ReadFromStorageKey", absent))["PayloadBinary"]!));
        Assert.Equal("empty", ParseText((byte[])Assert.Single(await Run(db, "ReadFromStorageKey", empty))["PayloadBinary"]!));
    }

    private static async Task ReminderRangesFollowTheRingAsync(StorageDialect dialect)
    {
        await using var db = await MigratedAsync(dialect);
        int[] hashes = [int.MinValue, -5, 0, 5, int.MaxValue];
        foreach (var hash in hashes)
        {
            await UpsertReminderAsync(db, $"grain/{hash}", hash);
        }

        Assert.Equal(new[] { 0, 5 }, await RangeAsync(db, "ReadRangeRows1Key", -5, 5));
        Assert.Equal(new[] { int.MinValue, -5, int.MaxValue }, await RangeAsync(db, "ReadRangeRows2Key", 5, -5));
        Assert.Equal(hashes, await RangeAsync(db, "ReadRangeRows2Key", 0, 0));
    }

    private static async Task ReminderVersionsGuardDeletesAsync(StorageDialect dialect)
    {
        await using var db = await MigratedAsync(dialect);
        Assert.Equal(1, await UpsertReminderAsync(db, "grain/a", 42));
        Assert.Equal(2, await UpsertReminderAsync(db, "grain/a", 42));

        var reminder = Assert.Single(await Run(db, "ReadReminderRowKey", Service, Grain("grain/a"), Reminder()));
        Assert.Equal(2, Convert.ToInt32(reminder["Version"]));
        Assert.Equal(60_000L, Convert.ToInt64(reminder["Period"]));

        Assert.False(SingleBool(await Run(db, "DeleteReminderRowKey", Service, Grain("grain/a"), Reminder(), new Param("Version", 1, DbType.Int32))));
        Assert.True(SingleBool(await Run(db, "DeleteReminderRowKey", Service, Grain("grain/a"), Reminder(), new Param("Version", 2, DbType.Int32))));
        Assert.Empty(await Run(db, "ReadReminderRowsKey", Service, Grain("grain/a")));
    }

    private static async Task<TestDatabase> MigratedAsync(StorageDialect dialect)
    {
        var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();
        return db;
    }

    private static Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Run(TestDatabase db, string key, params Param[] parameters) =>
        StorageSql.RunOrleansQueryAsync(db, key, parameters);

    private static Param Service => new("ServiceId", ServiceId, DbType.String);

    private static Param Grain(string grainId) => new("GrainId", grainId, DbType.AnsiString);

    private static Param Reminder() => new("ReminderName", "tick", DbType.String);

    private static Param Version(int version) => new("GrainStateVersion", version, DbType.Int32);

    private static Param[] Silo(string address, int port, int generation) =>
    [
        new("Address", address, DbType.AnsiString), new("Port", port, DbType.Int32), new("Generation", generation, DbType.Int32),
    ];

    private static Param[] StateKey(string? stringKey, string? extension, long n1 = 0) =>
    [
        new("GrainIdHash", 1234, DbType.Int32),
        new("GrainIdN0", 0L, DbType.Int64),
        new("GrainIdN1", n1, DbType.Int64),
        new("GrainTypeHash", 5678, DbType.Int32),
        new("GrainTypeString", "agent", DbType.String),
        new("GrainIdExtensionString", stringKey ?? extension, DbType.String),
        new("ServiceId", ServiceId, DbType.String),
    ];

    /// <summary>The write query's NewGrainStateVersion; null is what the provider raises as InconsistentStateException.</summary>
    private static async Task<int?> WriteAsync(TestDatabase db, Param[] key, int? version, string json)
    {
        var rows = await Run(db, "WriteToStorageKey",
        [
            .. key,
            new("GrainStateVersion", version, DbType.Int32),
            new("PayloadBinary", Encoding.UTF8.GetBytes(json), DbType.Binary),
        ]);
        var value = Assert.Single(rows)["NewGrainStateVersion"];
        return value is null ? null : Convert.ToInt32(value);
    }

    private static async Task<int> UpsertReminderAsync(TestDatabase db, string grainId, int hash)
    {
        var row = Assert.Single(await Run(db, "UpsertReminderRowKey",
            Service, Grain(grainId), Reminder(),
            new Param("GrainHash", hash, DbType.Int32),
            new Param("StartTime", new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), DbType.DateTime),
            new Param("Period", 60_000, DbType.Int32)));
        return Convert.ToInt32(row["Version"]);
    }

    private static async Task<int[]> RangeAsync(TestDatabase db, string key, int begin, int end)
    {
        var rows = await Run(db, key, Service, new Param("BeginHash", begin, DbType.Int32), new Param("EndHash", end, DbType.Int32));
        return rows.Select(r => int.Parse(((string)r["GrainId"]!)["grain/".Length..], System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
    }

    private static bool SingleBool(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        var row = Assert.Single(rows);
        return Convert.ToBoolean(Assert.Single(row.Values));
    }

    private static string ParseText(byte[] payload)
    {
        using var json = System.Text.Json.JsonDocument.Parse(payload);
        return json.RootElement.GetProperty("Text").GetString()!;
    }
}
