using System.Data.Common;
using System.Globalization;
using NoOrg.Storage.Migrations;

namespace NoOrg.Storage;

/// <summary>
/// Proves at start that the Orleans providers will find their SQL. Without it a missing query surfaces deep
/// inside silo start-up as a bare "Sequence contains no matching element" or a KeyNotFoundException.
/// </summary>
public static class OrleansQueryCheck
{
    /// <exception cref="MissingOrleansQueriesException">Queries are missing; the message names each and the fix.</exception>
    /// <exception cref="StorageUnavailableException">The database cannot be opened.</exception>
    public static async Task VerifyAsync(
        StorageDialect dialect, string connectionString, OrleansFeatures features, CancellationToken cancellationToken = default)
    {
        var required = OrleansQueryKeys.For(features);
        if (required.Count == 0)
        {
            return;
        }

        var database = StorageConnections.Describe(dialect, connectionString);
        var present = await ReadPresentKeysAsync(dialect, connectionString, database, cancellationToken);
        var missing = required.Where(q => present is null || !present.Contains(q.Key)).ToList();
        if (missing.Count > 0)
        {
            throw new MissingOrleansQueriesException(database, missing, tableMissing: present is null);
        }
    }

    /// <summary>The keys with a non-blank query text; null when there is no OrleansQuery table (or no database file).</summary>
    private static async Task<HashSet<string>?> ReadPresentKeysAsync(
        StorageDialect dialect, string connectionString, string database, CancellationToken cancellationToken)
    {
        var db = MigrationDialect.For(dialect);
        if (!db.DatabaseExists(connectionString))
        {
            return null;
        }

        DbConnection connection;
        try
        {
            connection = StorageConnections.Create(dialect, connectionString);
        }
        catch (ArgumentException e)
        {
            throw new StorageUnavailableException(database, e);
        }

        await using (connection)
        {
            try
            {
                await connection.OpenAsync(cancellationToken);
            }
            catch (DbException e)
            {
                throw new StorageUnavailableException(database, e);
            }

            try
            {
                await using var command = connection.CreateCommand();
                command.CommandText = db.TableExistsSql;
                command.AddParameter("name", "orleansquery");
                if (!Convert.ToBoolean(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture))
                {
                    return null;
                }

                command.Parameters.Clear();
                command.CommandText = "SELECT QueryKey FROM OrleansQuery WHERE trim(QueryText) <> ''";
                var keys = new HashSet<string>(StringComparer.Ordinal);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    keys.Add(reader.GetString(0));
                }

                return keys;
            }
            catch (DbException e)
            {
                throw new StorageUnavailableException(database, e);
            }
        }
    }
}
