using NoOrg.Storage;

namespace NoOrg.Grains;

/// <summary>The database the read models live in: the same one that holds grain state.</summary>
public sealed record IndexDatabase(StorageDialect Dialect, string ConnectionString);

