using Microsoft.Extensions.Logging;

namespace NoOrg.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Migration} to the {Database} in {ElapsedMs} ms")]
    public static partial void MigrationApplied(this ILogger logger, string migration, string database, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Migration {Migration} was applied meanwhile by another migrator of the {Database}")]
    public static partial void MigrationAppliedConcurrently(this ILogger logger, string migration, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Database} is up to date: {Applied} migration(s) applied now, {Already} already applied")]
    public static partial void MigrationFinished(this ILogger logger, string database, int applied, int already);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Database} records migration {Migration}, which this build does not know: it was probably migrated by a newer NoOrg")]
    public static partial void UnknownMigrationRecorded(this ILogger logger, string database, string migration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Database} could not be put in WAL mode (journal mode is {Mode}); readers will block while the silo writes")]
    public static partial void SqliteNotInWalMode(this ILogger logger, string database, string mode);
}
