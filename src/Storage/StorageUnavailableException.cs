namespace NoOrg.Storage;

/// <summary>The database could not be reached or opened at all.</summary>
public sealed class StorageUnavailableException : StorageException
{
    public const string ErrorCode = "storage.unavailable";

    public StorageUnavailableException(string database, Exception innerException)
        : base(ErrorCode, $"Cannot open the {database}: {AsSentence(innerException?.Message)} Check NOORG_STORAGE_CONNECTION_STRING "
            + "(or the SQLite data directory) and that the database is running and reachable.", innerException)
    {
        Database = database;
    }

    /// <summary>Which database it was, without credentials.</summary>
    public string Database { get; }
}
