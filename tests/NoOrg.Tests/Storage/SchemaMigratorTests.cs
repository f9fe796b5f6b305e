using NoOrg.Storage;
using NoOrg.Storage.Migrations;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Storage;

public sealed class SchemaMigratorTests
{
    [Fact]
    public Task Migrate_twice_is_a_noop_on_sqlite() => MigrateTwiceIsANoopAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Migrate_twice_is_a_noop_on_postgres() => MigrateTwiceIsANoopAsync(StorageDialect.Postgres);

    [Fact]
    public Task Concurrent_migrators_apply_each_migration_once_on_sqlite() => ConcurrentMigratorsApplyEachMigrationOnceAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Concurrent_migrators_apply_each_migration_once_on_postgres() => ConcurrentMigratorsApplyEachMigrationOnceAsync(StorageDialect.Postgres);

    [Fact]
    public Task Changed_checksum_is_reported_naming_the_migration_on_sqlite() => ChangedChecksumIsReportedAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Changed_checksum_is_reported_naming_the_migration_on_postgres() => ChangedChecksumIsReportedAsync(StorageDialect.Postgres);

    [Fact]
    public Task Failed_migration_leaves_nothing_of_itself_behind_on_sqlite() => FailedMigrationLeavesNothingBehindAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Failed_migration_leaves_nothing_of_itself_behind_on_postgres() => FailedMigrationLeavesNothingBehindAsync(StorageDialect.Postgres);

    [Fact]
    public async Task Sqlite_database_is_in_wal_mode_after_migration()
    {
        await using var db = TestDatabases.CreateSqlite();
        await new SchemaMigrator(db.Dialect, db.ConnectionString).MigrateAsync();

        Assert.Equal("wal", await StorageSql.ScalarAsync(db, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Reading_history_of_a_missing_sqlite_file_creates_nothing()
    {
        await using var db = TestDatabases.CreateSqlite();

        Assert.Empty(await new SchemaMigrator(db.Dialect, db.ConnectionString).GetAppliedAsync());
        Assert.False(File.Exists(db.Name));
    }

    [Fact]
    public async Task Unreachable_postgres_is_reported_as_unavailable()
    {
        // Port 1 refuses at once: no server is needed to see how a dead database is reported.
        var migrator = new SchemaMigrator(StorageDialect.Postgres, "Host=127.0.0.1;Port=1;Username=noorg;Password=secret;Database=noorg;Timeout=5");

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => migrator.MigrateAsync());

        Assert.Equal(StorageUnavailableException.ErrorCode, error.Code);
        Assert.Contains("\"noorg\" on 127.0.0.1:1", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StorageDialect.Sqlite)]
    [InlineData(StorageDialect.Postgres)]
    public void Embedded_migrations_are_numbered_from_one_without_gaps(StorageDialect dialect)
    {
        var versions = MigrationCatalog.For(dialect).Select(m => m.Version).ToList();

        Assert.NotEmpty(versions);
        Assert.Equal(Enumerable.Range(1, versions.Count), versions);
    }

    private static async Task MigrateTwiceIsANoopAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        var migrator = new SchemaMigrator(dialect, db.ConnectionString);
        var expected = MigrationCatalog.For(dialect).Select(m => m.Id).ToList();

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.Equal(expected, first.AppliedNow.Select(m => m.Id));
        Assert.Empty(first.AlreadyApplied);
        Assert.False(second.AppliedAny);
        Assert.Equal(expected, second.AlreadyApplied.Select(m => m.Id));
        Assert.Equal(expected, (await migrator.GetAppliedAsync()).Select(m => m.Id));

        var tables = await StorageSql.TablesAsync(db);
        string[] common = ["noorg_schema_migrations", "orleansquery", "orleans_grain_state", "orleans_reminders"];
        Assert.Superset(common.ToHashSet(), tables.ToHashSet());
        if (dialect == StorageDialect.Postgres)
        {
            Assert.Contains("orleans_membership", tables);
            Assert.Contains("orleans_membership_version", tables);
        }

        var keys = await StorageSql.QueryKeysAsync(db);
        Assert.All(OrleansQueryKeys.For(StorageSql.FeaturesOf(dialect)), q => Assert.Contains(q.Key, keys));
    }

    private static async Task ConcurrentMigratorsApplyEachMigrationOnceAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        var expected = MigrationCatalog.For(dialect).Select(m => m.Version).ToList();

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync())));

        var appliedNow = reports.SelectMany(r => r.AppliedNow).Select(m => m.Version).Order().ToList();
        Assert.Equal(expected, appliedNow);
        Assert.All(reports, r => Assert.Equal(expected, r.AppliedNow.Concat(r.AlreadyApplied).Select(m => m.Version).Order()));
        Assert.Equal((long)expected.Count, Convert.ToInt64(await StorageSql.ScalarAsync(db, "SELECT count(*) FROM noorg_schema_migrations")));
    }

    private static async Task FailedMigrationLeavesNothingBehindAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        MigrationScript[] scripts =
        [
            Script(1, "first", "CREATE TABLE probe_first (id integer)"),
            Script(2, "broken", "CREATE TABLE probe_broken (id integer); SELECT * FROM no_such_table"),
        ];

        var error = await Assert.ThrowsAsync<StorageMigrationException>(() =>
            new SchemaMigrator(dialect, db.ConnectionString, scripts).MigrateAsync());

        Assert.Equal(StorageMigrationException.FailedCode, error.Code);
        Assert.Equal("0002_broken", error.Migration);
        Assert.Contains("Migration 0002_broken failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_table", error.Message, StringComparison.Ordinal);
        var tables = await StorageSql.TablesAsync(db);
        Assert.Contains("probe_first", tables);
        Assert.DoesNotContain("probe_broken", tables);
        Assert.Equal([1], (await new SchemaMigrator(dialect, db.ConnectionString).GetAppliedAsync()).Select(m => m.Version));
    }

    private static MigrationScript Script(int version, string name, string sql) =>
        new(version, name, sql, MigrationCatalog.ChecksumOf(sql));

    private static async Task ChangedChecksumIsReportedAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        var migrator = new SchemaMigrator(dialect, db.ConnectionString);
        await migrator.MigrateAsync();
        await StorageSql.ExecuteAsync(db, "UPDATE noorg_schema_migrations SET checksum = 'edited-after-release' WHERE version = 2");

        var error = await Assert.ThrowsAsync<StorageMigrationException>(() => migrator.MigrateAsync());

        Assert.Equal(StorageMigrationException.ChecksumMismatchCode, error.Code);
        Assert.Equal("0002_grain_state", error.Migration);
        Assert.Contains("0002_grain_state", error.Message, StringComparison.Ordinal);
    }
}
