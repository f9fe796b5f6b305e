using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using NoOrg.Storage;

namespace NoOrg.Tests.Infrastructure;

/// <summary>
/// Writes grain states as Orleans' ADO.NET grain storage does: the WriteToStorageKey and ClearStorageKey queries
/// read from the database's OrleansQuery table, with the System.Text.Json payload the silo stores. The index tests
/// go through it, so they exercise the database's own projection of each state (migrations 0010 and 0011).
/// </summary>
internal sealed class GrainStateRows(StorageDialect dialect, string connectionString, string stateName)
{
    // What the silo's grain storage writes: PascalCase names, enums as numbers, nulls left out.
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly ConcurrentDictionary<string, int> versions = new(StringComparer.Ordinal);

    /// <summary>Writes the state of the grain with this key as the grain would; returns the new storage version, or null when the version lost.</summary>
    public Task<int?> WriteAsync<T>(string key, T state, int? expectedVersion = null) =>
        RunAsync("WriteToStorageKey", key, expectedVersion ?? Known(key), JsonSerializer.SerializeToUtf8Bytes(state, Json));

    /// <summary>ClearStateAsync of the grain: the state row stays with a NULL payload.</summary>
    public Task<int?> ClearAsync(string key) => RunAsync("ClearStorageKey", key, Known(key), null);

    /// <summary>The state version stored for the key, or null when no state row exists.</summary>
    public async Task<int?> StoredVersionAsync(string key)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null,
            "SELECT version FROM orleans_grain_state WHERE state_name = @state AND grain_id_string = @id");
        command.AddParameter("@state", stateName);
        command.AddParameter("@id", key);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private int? Known(string key) => versions.TryGetValue(key, out var v) ? v : null;

    private async Task<int?> RunAsync(string queryKey, string key, int? version, byte[]? payload)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        string sql;
        await using (var read = connection.CreateCommand(null, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = @key"))
        {
            read.AddParameter("@key", queryKey);
            sql = (string)(await read.ExecuteScalarAsync())!;
        }

        await using var command = connection.CreateCommand(null, sql);
        command.AddParameter("@ServiceId", "tests");
        command.AddParameter("@GrainTypeString", stateName);
        command.AddParameter("@GrainIdN0", 0L);
        command.AddParameter("@GrainIdN1", 0L);
        command.AddParameter("@GrainIdExtensionString", key);
        command.AddParameter("@GrainIdHash", Hash(key));
        command.AddParameter("@GrainTypeHash", Hash(stateName));
        // Typed as the provider types them: PostgreSQL cannot infer the type of a bare NULL.
        Typed(command, "@GrainStateVersion", DbType.Int32, version);
        if (payload is not null)
        {
            Typed(command, "@PayloadBinary", DbType.Binary, payload);
        }

        int? written = null;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            do
            {
                while (await reader.ReadAsync())
                {
                    if (!await reader.IsDBNullAsync(0))
                    {
                        written = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                    }
                }
            }
            while (await reader.NextResultAsync());
        }

        if (written is { } stored)
        {
            versions[key] = stored;
        }

        return written;
    }

    private static void Typed(DbCommand command, string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private static int Hash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return unchecked((int)hash);
    }
}
