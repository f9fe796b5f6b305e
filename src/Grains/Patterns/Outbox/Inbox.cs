using System.Data.Common;
using System.Data;
using System.Globalization;
using NoOrg.Storage;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// De-duplication for receivers of at-least-once messages: table <c>noorg_inbox</c> keyed by (receiver, message id).
/// <see cref="HandleOnceAsync"/> records the id and runs the receiver's effect in ONE database transaction, so a
/// crash between handling and recording cannot happen: either both are committed or neither. Ids are kept for
/// <c>NOORG_OUTBOX_INBOX_RETENTION_HOURS</c>, which must outlast every redelivery (settings check it).
/// </summary>
public interface IInbox
{
    /// <summary>
    /// Runs <paramref name="handle"/> in a transaction that also records <paramref name="messageId"/> for
    /// <paramref name="receiver"/>; returns false, without running it, when that id was already handled.
    /// The effect must use the given connection and transaction to share its fate with the record.
    /// </summary>
    Task<bool> HandleOnceAsync(string receiver, string messageId, Func<DbConnection, DbTransaction, Task> handle);

    /// <summary>Whether <paramref name="receiver"/> has handled <paramref name="messageId"/> (within the retention).</summary>
    Task<bool> HandledAsync(string receiver, string messageId);

    /// <summary>Forgets ids handled before <paramref name="cutoff"/>, at most <paramref name="limit"/>; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset cutoff, int limit);
}

internal sealed class SqlInbox(IndexDatabase database, TimeProvider clock) : IInbox
{
    private bool IsPostgres => database.Dialect == StorageDialect.Postgres;

    public async Task<bool> HandleOnceAsync(string receiver, string messageId, Func<DbConnection, DbTransaction, Task> handle)
    {
        ArgumentException.ThrowIfNullOrEmpty(receiver);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentNullException.ThrowIfNull(handle);
        await using var connection = await OpenAsync();
        // PostgreSQL: a concurrent duplicate waits on the row lock of the first insert and then inserts nothing.
        // SQLite: serializable takes the write lock up front.
        await using var transaction = await connection.BeginTransactionAsync(IsPostgres ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable);
        await using (var record = connection.CreateCommand(transaction,
            "INSERT INTO noorg_inbox (receiver, message_id, handled_at) VALUES (@receiver, @id, @at) ON CONFLICT (receiver, message_id) DO NOTHING"))
        {
            record.AddParameter("receiver", receiver);
            record.AddParameter("id", messageId);
            record.AddParameter("at", Time(clock.GetUtcNow()));
            if (await record.ExecuteNonQueryAsync() == 0)
            {
                await transaction.RollbackAsync();
                return false;
            }
        }

        await handle(connection, transaction);
        await transaction.CommitAsync();
        return true;
    }

    public async Task<bool> HandledAsync(string receiver, string messageId)
    {
        await using var connection = await OpenAsync();
        await using var select = connection.CreateCommand(null, "SELECT 1 FROM noorg_inbox WHERE receiver = @receiver AND message_id = @id");
        select.AddParameter("receiver", receiver);
        select.AddParameter("id", messageId);
        return await select.ExecuteScalarAsync() is not null;
    }

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, int limit)
    {
        await using var connection = await OpenAsync();
        await using var delete = connection.CreateCommand(null, """
            DELETE FROM noorg_inbox WHERE (receiver, message_id) IN (
                SELECT receiver, message_id FROM noorg_inbox WHERE handled_at < @cutoff ORDER BY handled_at LIMIT @limit)
            """);
        delete.AddParameter("cutoff", Time(cutoff));
        delete.AddParameter("limit", limit);
        return await delete.ExecuteNonQueryAsync();
    }

    private object Time(DateTimeOffset time) => IsPostgres
        ? time.UtcDateTime
        : time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private Task<DbConnection> OpenAsync() => database.OpenAsync(CancellationToken.None);
}
