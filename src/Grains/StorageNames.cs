namespace NoOrg.Grains;

/// <summary>Names of the grain storage providers every silo registers.</summary>
public static class StorageNames
{
    /// <summary>
    /// Durable grain state, in the configured database (SQLite file or PostgreSQL). Not the stream provider's name
    /// (<c>NoOrgStreams.Provider</c>): Orleans would store the streams' own state here, in a format it cannot read back.
    /// </summary>
    public const string Default = "noorg-state";
}
