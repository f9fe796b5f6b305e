namespace NoOrg.Storage;

/// <summary>What one <see cref="SchemaMigrator.MigrateAsync"/> run found and did.</summary>
public sealed record MigrationReport(
    StorageDialect Dialect,
    IReadOnlyList<AppliedMigration> AppliedNow,
    IReadOnlyList<AppliedMigration> AlreadyApplied)
{
    public bool AppliedAny => AppliedNow.Count > 0;
}

/// <summary>A migration as recorded in the noorg_schema_migrations table.</summary>
public sealed record AppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt)
{
    /// <summary>The migration's file name without extension, e.g. <c>0002_grain_state</c>.</summary>
    public string Id => MigrationNames.Id(Version, Name);
}

internal static class MigrationNames
{
    public static string Id(int version, string name) =>
        $"{version.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)}_{name}";
}
