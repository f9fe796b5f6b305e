using System.Data.Common;
using System.Globalization;
using NoOrg.Grains.Tasks;
using NoOrg.Storage;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// <see cref="ISagaIndex"/> in the cluster's own database (table from migration 0008, written by the database from
/// each saga state write: migration 0012). Listing is served by an index per filter; statistics group the rows by
/// status and definition (a scan of the status index) and take durations from the newest finished sagas.
/// </summary>
internal sealed class SqlSagaIndex(IndexDatabase database) : ISagaIndex
{
    public const int MaxPageSize = 1000;

    /// <summary>Duration percentiles read this many of the most recently finished sagas.</summary>
    public const int DurationWindow = 1000;

    public async Task<Page<SagaSummary>> QueryAsync(SagaQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Skip);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Take, 1);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, "");
        var conditions = new List<string>();
        if (query.Status is { } status)
        {
            conditions.Add("status = @status");
            command.AddParameter("@status", StatusName(status));
        }

        if (query.Definition is { } definition)
        {
            conditions.Add("definition = @definition");
            command.AddParameter("@definition", definition);
        }

        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        command.CommandText =
            "SELECT id, definition, status, failed_step, created_at, updated_at, finished_at FROM noorg_sagas" + where
            + " ORDER BY created_at DESC, id LIMIT @take OFFSET @skip;\nSELECT COUNT(*) FROM noorg_sagas" + where + ";";
        command.AddParameter("@take", Math.Min(query.Take, MaxPageSize));
        command.AddParameter("@skip", query.Skip);

        var items = new List<SagaSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new SagaSummary(
                reader.GetString(0), reader.GetString(1), ParseStatus(reader.GetString(2)),
                await reader.IsDBNullAsync(3, cancellationToken) ? null : reader.GetString(3),
                Time(reader, 4), Time(reader, 5),
                await reader.IsDBNullAsync(6, cancellationToken) ? null : Time(reader, 6)));
        }

        await reader.NextResultAsync(cancellationToken);
        var total = await reader.ReadAsync(cancellationToken) ? Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) : 0;
        return new Page<SagaSummary>(items, total, query.Skip);
    }

    public async Task<SagaStatistics> StatisticsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, $"""
            SELECT status, COUNT(*) FROM noorg_sagas GROUP BY status;
            SELECT definition, COUNT(*) FROM noorg_sagas GROUP BY definition;
            SELECT duration_ms FROM noorg_sagas WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT {DurationWindow};
            """);
        var byStatus = Enum.GetValues<SagaStatus>().ToDictionary(s => s, _ => 0L);
        var byDefinition = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            byStatus[ParseStatus(reader.GetString(0))] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            byDefinition[reader.GetString(0)] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        await reader.NextResultAsync(cancellationToken);
        var durations = new List<long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            durations.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        }

        durations.Sort();
        return new SagaStatistics(
            byStatus.Values.Sum(), byStatus, byDefinition,
            durations.Count == 0 ? null : TimeSpan.FromMilliseconds(NearestRank.Percentile(durations, 50)),
            durations.Count == 0 ? null : TimeSpan.FromMilliseconds(NearestRank.Percentile(durations, 90)),
            now);
    }

    internal static string StatusName(SagaStatus status) => status.ToString().ToLowerInvariant();

    private static SagaStatus ParseStatus(string name) => Enum.GetValues<SagaStatus>().First(s => StatusName(s) == name);

    private static DateTimeOffset Time(DbDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture));

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        database.OpenAsync(cancellationToken);
}
