namespace NoOrg.Grains;

/// <summary>Names of the grain storage providers every silo registers.</summary>
public static class StorageNames
{
    /// <summary>Durable grain state, in the configured database (SQLite file or PostgreSQL).</summary>
    public const string Default = "noorg";
}
