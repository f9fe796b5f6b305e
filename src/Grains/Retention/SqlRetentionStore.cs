using System.Data;
using System.Data.Common;
using System.Globalization;
using NoOrg.Storage;

namespace NoOrg.Grains.Retention;

/// <summary>
/// The statements retention runs. Each removes at most one batch in one short transaction, oldest first, and only
/// what its rule says may go, so running one twice, or after a silo died in the middle of one, removes nothing more.
/// </summary>
public sealed class SqlRetentionStore(IndexDatabase database)
{
    private const string SagaStates = "state_name IN ('saga', 'saga-step', 'saga-compensation')";
    private const string SqliteMicros = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";
    private const string SqliteMillis = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    private string C => IsPostgres ? " COLLATE \"C\"" : "";

    /// <summary>Finished sagas and scopes (terminal) that finished before <paramref name="cutoff"/>, oldest first.</summary>
    public Task<IReadOnlyList<string>> FinishedSagasAsync(DateTimeOffset cutoff, int limit) => SagaIdsAsync("""
        SELECT id FROM noorg_sagas
         WHERE finished_at IS NOT NULL AND finished_at < @cutoff AND status IN ('completed', 'compensated', 'cancelled')
         ORDER BY finished_at LIMIT @limit
        """, cutoff, limit);

    /// <summary>Open compensation scopes (definition <c>scope:...</c>) whose last change is older than the cutoff, oldest first.</summary>
    public Task<IReadOnlyList<string>> AbandonedScopesAsync(DateTimeOffset cutoff, int limit) => SagaIdsAsync("""
        SELECT id FROM noorg_sagas
         WHERE status = 'running' AND substr(definition, 1, 6) = 'scope:' AND updated_at < @cutoff
         ORDER BY updated_at LIMIT @limit
        """, cutoff, limit);

    private async Task<IReadOnlyList<string>> SagaIdsAsync(string sql, DateTimeOffset cutoff, int limit)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand(null, sql);
        command.AddParameter("@cutoff", cutoff.ToUnixTimeMilliseconds());
        command.AddParameter("@limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>
    /// Removes a finished saga whole in one transaction: its coordinator state, every step and compensation state,
    /// and (through the triggers on the grain-state table) its index row and outbox rows. Refuses (false) a saga
    /// that is not terminal or still has messages to deliver.
    /// </summary>
    public async Task<bool> DeleteSagaAsync(string serviceId, string sagaId)
    {
        await using var connection = await database.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(IsPostgres ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable);
        await using (var guard = connection.CreateCommand(transaction, $"""
            SELECT 1 FROM noorg_sagas
             WHERE id = @id AND status IN ('completed', 'compensated', 'cancelled')
               AND NOT EXISTS (SELECT 1 FROM noorg_outbox WHERE service_id = @service AND state_name = 'saga' AND grain_key = @id
                                  AND {(IsPostgres ? "NOT dead" : "dead = 0")})
            {(IsPostgres ? "FOR UPDATE" : "")}
            """))
        {
            guard.AddParameter("@id", sagaId);
            guard.AddParameter("@service", serviceId);
            if (await guard.ExecuteScalarAsync() is null)
            {
                await transaction.RollbackAsync();
                return false;
            }
        }

        await using (var delete = connection.CreateCommand(transaction, $"""
            DELETE FROM orleans_grain_state
             WHERE {SagaStates} AND service_id = @service
               AND ((state_name = 'saga' AND grain_id_string{C} = @id)
                 OR (state_name <> 'saga' AND grain_id_string{C} >= @from AND grain_id_string{C} < @to))
            """))
        {
            // Saga ids hold no ':', so '{id}:' up to '{id};' is exactly the keys of its steps.
            delete.AddParameter("@id", sagaId);
            delete.AddParameter("@from", sagaId + ":");
            delete.AddParameter("@to", sagaId + ";");
            delete.AddParameter("@service", serviceId);
            await delete.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return true;
    }

    /// <summary>
    /// The row a grain left by clearing its state (payload NULL), once the grain is done with it (a purged task).
    /// String keys are stored with both integer parts 0.
    /// </summary>
    public Task<int> DeleteClearedStateAsync(string serviceId, string stateName, string key) => ExecuteAsync(IsPostgres
        ? "DELETE FROM orleans_grain_state WHERE grain_key_digest = noorg_grain_key_digest(@service, @state, 0, 0, @key) AND payload IS NULL"
        : "DELETE FROM orleans_grain_state WHERE state_name = @state AND grain_id_string = @key AND service_id = @service AND payload IS NULL",
        ("@service", serviceId), ("@state", stateName), ("@key", key));

    /// <summary>
    /// Completion samples beyond the newest <paramref name="keep"/> per type and agent, and older than
    /// <paramref name="recentCutoff"/>. The newest <paramref name="keep"/> per type, and overall, stay too: each of
    /// them is among the newest of its own type and agent.
    /// </summary>
    public Task<int> DeleteSamplesAsync(int keep, DateTimeOffset recentCutoff, int limit) => ExecuteAsync("""
        DELETE FROM noorg_task_samples WHERE id IN (
            SELECT id FROM (
                SELECT id, completed_at, row_number() OVER (PARTITION BY type, agent_id ORDER BY completed_at DESC, id DESC) AS position
                  FROM noorg_task_samples) AS ranked
             WHERE position > @keep AND completed_at < @cutoff
             LIMIT @limit)
        """, ("@keep", keep), ("@cutoff", IsPostgres ? recentCutoff.UtcDateTime : Text(recentCutoff, SqliteMicros)), ("@limit", limit));

    public Task<int> DeleteResolvedIssuesAsync(DateTimeOffset cutoff, int limit) => ExecuteAsync("""
        DELETE FROM noorg_health_issues WHERE issue_id IN (
            SELECT issue_id FROM noorg_health_issues WHERE state = 'Resolved' AND resolved_at < @cutoff ORDER BY resolved_at LIMIT @limit)
        """, ("@cutoff", cutoff.ToUniversalTime()), ("@limit", limit));

    /// <summary>Dead letters no one retried or touched since <paramref name="cutoff"/>.</summary>
    public Task<int> DeleteDeadLettersAsync(string serviceId, DateTimeOffset cutoff, int limit) => ExecuteAsync($"""
        DELETE FROM noorg_outbox WHERE (service_id, state_name, grain_key, message_id, target_kind, target_address, target_key) IN (
            SELECT service_id, state_name, grain_key, message_id, target_kind, target_address, target_key FROM noorg_outbox
             WHERE service_id = @service AND {(IsPostgres ? "dead" : "dead = 1")} AND updated_at < @cutoff ORDER BY updated_at LIMIT @limit)
        """, ("@service", serviceId), ("@cutoff", IsPostgres ? cutoff.UtcDateTime : Text(cutoff, SqliteMillis)), ("@limit", limit));

    /// <summary>
    /// Task counter rows at zero, up to <paramref name="limit"/> from each counter table. The outer <c>tally = 0</c> is
    /// checked again on the row as it is when deleted, so a row a concurrent task write just raised stays.
    /// </summary>
    public async Task<int> DeleteEmptyTaskCountersAsync(int limit) =>
        await ExecuteAsync("""
            DELETE FROM noorg_task_counts WHERE tally = 0 AND (dimension, value, slot) IN (
                SELECT dimension, value, slot FROM noorg_task_counts WHERE tally = 0 LIMIT @limit)
            """, ("@limit", limit))
        + await ExecuteAsync("""
            DELETE FROM noorg_task_group_counts WHERE tally = 0 AND (state, type, priority, slot) IN (
                SELECT state, type, priority, slot FROM noorg_task_group_counts WHERE tally = 0 LIMIT @limit)
            """, ("@limit", limit));

    /// <summary>Records a finished run of one kind (its time, what it removed, and the running total).</summary>
    public Task RecordRunAsync(string kind, DateTimeOffset at, long removed) => ExecuteAsync("""
        INSERT INTO noorg_retention_runs (kind, last_run_at, removed, removed_total) VALUES (@kind, @at, @removed, @removed)
        ON CONFLICT (kind) DO UPDATE SET last_run_at = excluded.last_run_at, removed = excluded.removed,
                                         removed_total = noorg_retention_runs.removed_total + excluded.removed
        """, ("@kind", kind), ("@at", IsPostgres ? at.UtcDateTime : Text(at, SqliteMicros)), ("@removed", removed));

    private async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand(null, sql);
        foreach (var (name, value) in parameters)
        {
            command.AddParameter(name, value);
        }

        return await command.ExecuteNonQueryAsync();
    }

    private static string Text(DateTimeOffset time, string format) => time.UtcDateTime.ToString(format, CultureInfo.InvariantCulture);
}
