namespace NoOrg.Storage;

/// <summary>A schema migration could not be applied or no longer matches what was applied.</summary>
public sealed class StorageMigrationException : StorageException
{
    /// <summary>The migration's script failed; its transaction was rolled back.</summary>
    public const string FailedCode = "storage.migration_failed";

    /// <summary>A migration recorded as applied has a different script in this build.</summary>
    public const string ChecksumMismatchCode = "storage.migration_checksum_mismatch";

    public StorageMigrationException(string code, string migration, string message, Exception? innerException = null)
        : base(code, message, innerException)
    {
        Migration = migration;
    }

    /// <summary>The migration concerned, as <c>NNNN_name</c>.</summary>
    public string Migration { get; }
}
