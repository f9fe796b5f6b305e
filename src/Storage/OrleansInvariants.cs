namespace NoOrg.Storage;

/// <summary>The ADO.NET invariant names under which the Orleans providers find each database driver.</summary>
public static class OrleansInvariants
{
    /// <summary>
    /// SQLite. Orleans keeps the historical name but loads Microsoft.Data.Sqlite's <c>SqliteFactory</c> for it,
    /// not the System.Data.SQLite package.
    /// </summary>
    public const string Sqlite = "System.Data.SQLite";

    /// <summary>PostgreSQL, loaded from Npgsql's <c>NpgsqlFactory</c>.</summary>
    public const string Postgres = "Npgsql";

    public static string For(StorageDialect dialect) => dialect switch
    {
        StorageDialect.Sqlite => Sqlite,
        StorageDialect.Postgres => Postgres,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "Unknown storage dialect."),
    };
}
