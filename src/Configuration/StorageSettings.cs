using Microsoft.Data.Sqlite;
using Npgsql;

namespace NoOrg.Configuration;

public enum StorageProvider { Sqlite, Postgres }

[SettingsArea("NOORG_STORAGE", "Storage (grain state, reminders, clustering)")]
public sealed class StorageSettings
{
    [Setting("PROVIDER", "sqlite: embedded single silo, data in a file; postgres: a cluster of silos sharing one database")]
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    [Setting("CONNECTION_STRING", "Npgsql connection string (required for postgres); for sqlite it overrides the file under NOORG_STORAGE_DATA_DIR")]
    [Secret]
    public string ConnectionString { get; set; } = "";

    [Setting("DATA_DIR", "directory for the sqlite file; empty means $XDG_DATA_HOME/noorg or ~/.local/share/noorg")]
    public string DataDirectory { get; set; } = "";

    [Setting("MIGRATE_ON_START", "apply pending database migrations when the silo starts (otherwise run: noorg db migrate)")]
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>The directory the SQLite file lives in, resolved against the working directory.</summary>
    public string ResolvedDataDirectory
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(DataDirectory))
            {
                return Path.GetFullPath(DataDirectory);
            }

            var xdg = System.Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            var root = !string.IsNullOrWhiteSpace(xdg) ? xdg
                : !string.IsNullOrWhiteSpace(home) ? Path.Combine(home, ".local", "share")
                : Path.GetFullPath("data");
            return Path.Combine(root, "noorg");
        }
    }

    /// <summary>The connection string the providers use: the configured one, or the embedded SQLite file.</summary>
    public string EffectiveConnectionString =>
        !string.IsNullOrWhiteSpace(ConnectionString) || Provider != StorageProvider.Sqlite
            ? ConnectionString
            : new SqliteConnectionStringBuilder { DataSource = Path.Combine(ResolvedDataDirectory, "noorg.db") }.ToString();

    internal IEnumerable<SettingError> Validate()
    {
        const string key = "NOORG_STORAGE_CONNECTION_STRING";
        if (Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new SettingError(key, null, "is required when NOORG_STORAGE_PROVIDER=postgres (for example Host=db;Username=noorg;Password=...;Database=noorg)");
            yield break;
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield break;
        }

        var problem = Provider == StorageProvider.Postgres ? CheckPostgres(ConnectionString) : CheckSqlite(ConnectionString);
        if (problem is not null)
        {
            yield return new SettingError(key, null, problem);
        }
    }

    private static string? CheckPostgres(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "is not a valid PostgreSQL connection string: Host is missing" : null;
        }
        catch (ArgumentException e)
        {
            return $"is not a valid PostgreSQL connection string: {e.Message}";
        }
    }

    private static string? CheckSqlite(string connectionString)
    {
        try
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.DataSource) ? "is not a valid SQLite connection string: Data Source is missing" : null;
        }
        catch (ArgumentException e)
        {
            return $"is not a valid SQLite connection string: {e.Message}";
        }
    }
}
