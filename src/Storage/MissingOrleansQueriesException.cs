using System.Text;

namespace NoOrg.Storage;

/// <summary>The OrleansQuery table lacks queries that the configured Orleans providers load at start.</summary>
public sealed class MissingOrleansQueriesException : StorageException
{
    public const string ErrorCode = "storage.orleans_queries_missing";

    public MissingOrleansQueriesException(string database, IReadOnlyList<OrleansQueryRequirement> missing, bool tableMissing)
        : base(ErrorCode, Describe(database, missing, tableMissing))
    {
        Database = database;
        Missing = missing;
        TableMissing = tableMissing;
    }

    public string Database { get; }

    public IReadOnlyList<OrleansQueryRequirement> Missing { get; }

    /// <summary>True when there is no OrleansQuery table at all (a database that was never migrated).</summary>
    public bool TableMissing { get; }

    private static string Describe(string database, IReadOnlyList<OrleansQueryRequirement> missing, bool tableMissing)
    {
        ArgumentNullException.ThrowIfNull(missing);
        var text = new StringBuilder();
        text.Append(tableMissing
            ? $"The {database} has no OrleansQuery table, so all {missing.Count} queries the Orleans providers need are missing:"
            : $"The {database} lacks {missing.Count} of the queries the Orleans providers load from the OrleansQuery table:");
        foreach (var query in missing)
        {
            text.Append($"\n  - {query.Key}, needed by {query.Provider}");
        }

        text.Append("\nFix: run \"noorg db migrate\" or start the silo with NOORG_STORAGE_MIGRATE_ON_START=true.");
        return text.ToString();
    }
}
