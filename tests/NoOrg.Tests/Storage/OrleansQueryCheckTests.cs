using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Storage;

public sealed class OrleansQueryCheckTests
{
    [Fact]
    public Task Check_passes_after_migration_on_sqlite() => CheckPassesAfterMigrationAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Check_passes_after_migration_on_postgres() => CheckPassesAfterMigrationAsync(StorageDialect.Postgres);

    [Fact]
    public Task Check_names_a_deleted_query_and_the_fix_on_sqlite() => CheckNamesADeletedQueryAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Check_names_a_deleted_query_and_the_fix_on_postgres() => CheckNamesADeletedQueryAsync(StorageDialect.Postgres);

    [Fact]
    public Task Check_of_an_empty_database_names_every_query_on_sqlite() => CheckOfAnEmptyDatabaseNamesEveryQueryAsync(StorageDialect.Sqlite);

    [PostgresFact]
    public Task Check_of_an_empty_database_names_every_query_on_postgres() => CheckOfAnEmptyDatabaseNamesEveryQueryAsync(StorageDialect.Postgres);

    [Fact]
    public async Task Sqlite_migrations_do_not_provide_clustering()
    {
        await using var db = TestDatabases.CreateSqlite();
        await new SchemaMigrator(db.Dialect, db.ConnectionString).MigrateAsync();

        var error = await Assert.ThrowsAsync<MissingOrleansQueriesException>(() =>
            OrleansQueryCheck.VerifyAsync(db.Dialect, db.ConnectionString, OrleansFeatures.All));

        Assert.Equal(OrleansQueryKeys.For(OrleansFeatures.Clustering), error.Missing);
    }

    private static async Task CheckPassesAfterMigrationAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();

        await OrleansQueryCheck.VerifyAsync(dialect, db.ConnectionString, StorageSql.FeaturesOf(dialect));
    }

    private static async Task CheckNamesADeletedQueryAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, db.ConnectionString).MigrateAsync();
        await StorageSql.ExecuteAsync(db, "DELETE FROM OrleansQuery WHERE QueryKey = 'ReadRangeRows2Key'");

        var error = await Assert.ThrowsAsync<MissingOrleansQueriesException>(() =>
            OrleansQueryCheck.VerifyAsync(dialect, db.ConnectionString, StorageSql.FeaturesOf(dialect)));

        Assert.Equal(MissingOrleansQueriesException.ErrorCode, error.Code);
        Assert.False(error.TableMissing);
        Assert.Equal("ReadRangeRows2Key", Assert.Single(error.Missing).Key);
        Assert.Contains("ReadRangeRows2Key, needed by reminders (UseAdoNetReminderService)", error.Message, StringComparison.Ordinal);
        Assert.Contains("run \"noorg db migrate\" or start the silo with NOORG_STORAGE_MIGRATE_ON_START=true", error.Message, StringComparison.Ordinal);
    }

    private static async Task CheckOfAnEmptyDatabaseNamesEveryQueryAsync(StorageDialect dialect)
    {
        await using var db = await TestDatabases.CreateAsync(dialect);
        var required = OrleansQueryKeys.For(StorageSql.FeaturesOf(dialect));

        var error = await Assert.ThrowsAsync<MissingOrleansQueriesException>(() =>
            OrleansQueryCheck.VerifyAsync(dialect, db.ConnectionString, StorageSql.FeaturesOf(dialect)));

        Assert.True(error.TableMissing);
        Assert.Equal(required, error.Missing);
        Assert.All(required, q => Assert.Contains(q.Key, error.Message, StringComparison.Ordinal));
        Assert.Contains("has no OrleansQuery table", error.Message, StringComparison.Ordinal);
    }
}
