using NoOrg.Configuration;
using NoOrg.Storage;

namespace NoOrg.Silo.Hosting;

/// <summary>Brings the database up to date (unless told not to) and proves the providers will find their SQL.</summary>
public static class StorageStartup
{
    public static async Task PrepareAsync(NoOrgSettings settings, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var dialect = settings.Storage.Provider.ToDialect();
        var connectionString = settings.Storage.EffectiveConnectionString;
        if (settings.Storage.MigrateOnStart)
        {
            await new SchemaMigrator(dialect, connectionString, loggers.CreateLogger<SchemaMigrator>())
                .MigrateAsync(cancellationToken);
        }

        await OrleansQueryCheck.VerifyAsync(dialect, connectionString, FeaturesFor(settings), cancellationToken);
    }

    public static OrleansFeatures FeaturesFor(NoOrgSettings settings) =>
        settings.Storage.Provider == StorageProvider.Postgres
            ? OrleansFeatures.Persistence | OrleansFeatures.Reminders | OrleansFeatures.Clustering
            : OrleansFeatures.Persistence | OrleansFeatures.Reminders;
}
