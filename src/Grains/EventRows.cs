using System.Data.Common;
using System.Text.Json;
using NoOrg.Storage;

namespace NoOrg.Grains;

/// <summary>History rows (noorg_task_events, noorg_agent_events): one System.Text.Json event per row, as the state held it.</summary>
internal static class EventRows
{
    /// <summary>The column as JSON text in the dialect's own terms.</summary>
    public static string Column(StorageDialect dialect) => dialect == StorageDialect.Postgres ? "event::text" : "event";

    /// <summary>Runs the query and reads each row's first column as one event.</summary>
    public static async Task<IReadOnlyList<T>> ReadAsync<T>(DbCommand command, string table, CancellationToken cancellationToken)
    {
        var events = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(JsonSerializer.Deserialize<T>(reader.GetString(0))
                ?? throw new InvalidOperationException($"An empty event in {table}."));
        }

        return events;
    }
}
