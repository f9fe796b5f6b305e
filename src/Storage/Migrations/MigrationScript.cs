namespace NoOrg.Storage.Migrations;

/// <summary>One embedded migration: its number, name, SQL and the SHA-256 of that SQL.</summary>
internal sealed record MigrationScript(int Version, string Name, string Sql, string Checksum)
{
    public string Id => MigrationNames.Id(Version, Name);
}
