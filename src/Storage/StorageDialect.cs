namespace NoOrg.Storage;

/// <summary>The databases NoOrg keeps Orleans state in.</summary>
public enum StorageDialect
{
    /// <summary>The embedded single-silo default: one file, through Microsoft.Data.Sqlite.</summary>
    Sqlite,

    /// <summary>A cluster of silos sharing one PostgreSQL database, through Npgsql.</summary>
    Postgres,
}
