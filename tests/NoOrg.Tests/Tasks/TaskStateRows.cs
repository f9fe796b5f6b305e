using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;

namespace NoOrg.Tests.Tasks;

/// <summary>
/// Writes task grain states as Orleans' ADO.NET grain storage does: the WriteToStorageKey and ClearStorageKey
/// queries read from the database's OrleansQuery table, with the System.Text.Json payload the silo stores. The
/// task index tests go through it, so they exercise the database's own projection (migration 0010).
/// </summary>
internal sealed class TaskStateRows(StorageDialect dialect, string connectionString)
{
    // What the silo's grain storage writes: PascalCase names, enums as numbers, nulls left out.
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly ConcurrentDictionary<string, int> versions = new(StringComparer.Ordinal);

    /// <summary>Writes the task as its grain would; returns the new storage version, or null when the version lost.</summary>
    public Task<int?> WriteAsync(TaskSnapshot task, int? expectedVersion = null) =>
        RunAsync("WriteToStorageKey", task.Id, expectedVersion ?? Known(task.Id),
            JsonSerializer.SerializeToUtf8Bytes(new TaskGrainState { Task = task }, Json));

    /// <summary>ClearStateAsync of the task grain (a purge): the state row stays with a NULL payload.</summary>
    public Task<int?> ClearAsync(string taskId) => RunAsync("ClearStorageKey", taskId, Known(taskId), null);

    /// <summary>The state version stored for the task, or null when no state row exists.</summary>
    public async Task<int?> StoredVersionAsync(string taskId)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null,
            "SELECT version FROM orleans_grain_state WHERE state_name = 'task' AND grain_id_string = @id");
        command.AddParameter("@id", taskId);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private int? Known(string taskId) => versions.TryGetValue(taskId, out var v) ? v : null;

    private async Task<int?> RunAsync(string queryKey, string taskId, int? version, byte[]? payload)
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
        command.AddParameter("@GrainTypeString", TaskGrain.StateName);
        command.AddParameter("@GrainIdN0", 0L);
        command.AddParameter("@GrainIdN1", 0L);
        command.AddParameter("@GrainIdExtensionString", taskId);
        command.AddParameter("@GrainIdHash", Hash(taskId));
        command.AddParameter("@GrainTypeHash", Hash(TaskGrain.StateName));
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
            versions[taskId] = stored;
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
