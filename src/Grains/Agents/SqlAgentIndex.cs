using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NoOrg.Storage;

namespace NoOrg.Grains.Agents;

/// <summary>
/// <see cref="IAgentIndex"/> on the cluster's database: the tables of migration 0005_agent_index, the same SQL
/// for PostgreSQL and SQLite. "Has every capability of a set" is one join per capability on the (capability,
/// agent) key: it reads only the rows of the requested capabilities, each already in agent order, so they merge
/// without a sort or hash (on PostgreSQL several times faster than GROUP BY ... HAVING COUNT over the same rows).
/// </summary>
internal sealed class SqlAgentIndex(IndexDatabase database) : IAgentIndex
{
    // Busy is not stored (an agent's load is counted by its tasks' writes, migration 0018): an available agent
    // holding as many tasks as it may reads as busy. A row written before 0018 may still say Busy.
    private const string Accepting = "a.status IN ('Available', 'Busy')";

    private const string Status =
        "CASE WHEN " + Accepting + " THEN CASE WHEN a.active_tasks >= a.max_concurrent THEN 'Busy' ELSE 'Available' END ELSE a.status END";

    private const string SummaryColumns =
        "a.agent_id, a.name, a.agent_type, " + Status + ", a.capabilities, a.active_tasks, a.max_concurrent, a.last_heartbeat_at, a.health";

    // Unhealthy agents (health decided by their monitors, see Health/AgentHealthGrain) take no new work.
    private const string AcceptsWork = Accepting + " AND a.health <> 'Unhealthy'";

    // One index probe per distinct capability instead of reading every (capability, agent) row.
    private const string DistinctCapabilitiesSql = """
        WITH RECURSIVE c (capability) AS (
            SELECT MIN(capability) FROM noorg_agent_capabilities
            UNION ALL
            SELECT (SELECT n.capability FROM noorg_agent_capabilities AS n
                     WHERE n.capability > c.capability ORDER BY n.capability LIMIT 1)
              FROM c
             WHERE c.capability IS NOT NULL
        )
        SELECT capability FROM c WHERE capability IS NOT NULL
        """;

    public async Task<Page<AgentSummary>> FindAsync(AgentQuery query, CancellationToken cancellationToken = default)
    {
        var q = AgentRules.Normalize(query);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "");
        var where = new List<string>();
        var capable = CapabilityJoins(command, q.Capabilities ?? []);
        if (q.Type is { } type)
        {
            where.Add("a.agent_type = @type");
            AddParameter(command, "type", type);
        }

        if (q.Status is { } status)
        {
            where.Add(status switch
            {
                AgentStatus.Available => Accepting + " AND a.active_tasks < a.max_concurrent",
                AgentStatus.Busy => Accepting + " AND a.active_tasks >= a.max_concurrent",
                _ => "a.status = @status",
            });
            AddParameter(command, "status", status.ToString());
        }

        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        AddParameter(command, "take", q.Take);
        AddParameter(command, "skip", q.Skip);
        command.CommandText = $"""
            {TotalSql(q, capable, filter)};
            SELECT {SummaryColumns} FROM noorg_agents AS a {capable} {filter} ORDER BY a.agent_id LIMIT @take OFFSET @skip
            """;

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
        await reader.NextResultAsync(cancellationToken);
        var items = await ReadSummariesAsync(reader, cancellationToken);
        return new Page<AgentSummary>(items, total, q.Skip);
    }

    /// <summary>
    /// The page's total: from the maintained counters (migration 0021_agent_counts) when they answer the query (one
    /// capability alone, or a type and a status without capabilities), else an exact count of the matches.
    /// </summary>
    private static string TotalSql(AgentQuery q, string capable, string filter)
    {
        var capabilities = q.Capabilities ?? [];
        if (capabilities.Count == 1 && q.Type is null && q.Status is null)
        {
            return "SELECT COALESCE(SUM(tally), 0) FROM noorg_agent_capability_counts WHERE capability = @cap0";
        }

        if (capabilities.Count == 0)
        {
            var counted = new List<string>();
            if (q.Type is not null)
            {
                counted.Add("agent_type = @type");
            }

            if (q.Status is not null)
            {
                counted.Add("status = @status"); // the counters hold the listed status, Busy included
            }

            return "SELECT COALESCE(SUM(tally), 0) FROM noorg_agent_counts" + (counted.Count == 0 ? "" : " WHERE " + string.Join(" AND ", counted));
        }

        return $"SELECT COUNT(*) FROM noorg_agents AS a {capable} {filter}";
    }

    public async Task<AgentCounts> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT agent_type, status, SUM(tally) FROM noorg_agent_counts GROUP BY agent_type, status HAVING SUM(tally) <> 0");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);

        var byStatus = Enum.GetValues<AgentStatus>().ToDictionary(s => s, _ => 0L);
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture);
            var type = reader.GetString(0);
            byType[type] = byType.GetValueOrDefault(type) + count;
            byStatus[Enum.Parse<AgentStatus>(reader.GetString(1))] += count;
            total += count;
        }

        return new AgentCounts(total, byStatus, byType);
    }

    public async Task<IReadOnlyList<AgentEvent>> HistoryAsync(string agentId, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null,
            $"SELECT {EventRows.Column(database.Dialect)} FROM noorg_agent_events WHERE agent_id = @id ORDER BY sequence DESC LIMIT @take OFFSET @skip");
        AddParameter(command, "id", agentId);
        AddParameter(command, "take", take);
        AddParameter(command, "skip", skip);
        return await EventRows.ReadAsync<AgentEvent>(command, "noorg_agent_events", cancellationToken);
    }

    public async Task<IReadOnlyList<string>> CapabilitiesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, DistinctCapabilitiesSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var capabilities = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            capabilities.Add(reader.GetString(0));
        }

        // Sorted the same way on both databases, whatever the collation.
        capabilities.Sort(StringComparer.Ordinal);
        return capabilities;
    }

    public async Task<IReadOnlyList<AgentSummary>> CandidatesAsync(IReadOnlyList<string> capabilities, int limit, CancellationToken cancellationToken = default)
    {
        var required = AgentRules.Required(capabilities, "capabilities");
        if (limit < 1)
        {
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "");
        var capable = CapabilityJoins(command, required);
        AddParameter(command, "limit", Math.Min(limit, AgentRules.MaxPageSize));
        command.CommandText = $"""
            SELECT {SummaryColumns} FROM noorg_agents AS a {capable}
             WHERE {AcceptsWork} AND a.active_tasks < a.max_concurrent
             ORDER BY CASE WHEN a.health = 'Degraded' THEN 1 ELSE 0 END,
                      CAST(a.active_tasks AS REAL) / a.max_concurrent, a.active_tasks, a.agent_id
             LIMIT @limit
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadSummariesAsync(reader, cancellationToken);
    }

    public async Task<(int Capable, int Accepting)> CapabilityCoverageAsync(IReadOnlyList<string> capabilities, CancellationToken cancellationToken = default)
    {
        var required = AgentRules.Required(capabilities, "capabilities");
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "");
        var capable = CapabilityJoins(command, required);
        command.CommandText = $"""
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN {AcceptsWork} THEN 1 ELSE 0 END), 0)
              FROM noorg_agents AS a {capable}
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Joins that keep only agents (alias a) with every one of the distinct capabilities; adds their parameters.
    /// The key is (capability, agent_id), so each join matches at most one row per agent.
    /// </summary>
    private static string CapabilityJoins(DbCommand command, IReadOnlyList<string> capabilities)
    {
        var names = Parameters(command, capabilities, "cap");
        var joins = new StringBuilder();
        for (var i = 0; i < names.Count; i++)
        {
            var alias = "c" + i.ToString(CultureInfo.InvariantCulture);
            joins.Append(CultureInfo.InvariantCulture,
                $" JOIN noorg_agent_capabilities AS {alias} ON {alias}.agent_id = a.agent_id AND {alias}.capability = {names[i]}");
        }

        return joins.ToString();
    }

    private static List<string> Parameters(DbCommand command, IReadOnlyList<string> values, string prefix)
    {
        var names = new List<string>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            var name = prefix + i.ToString(CultureInfo.InvariantCulture);
            AddParameter(command, name, values[i]);
            names.Add("@" + name);
        }

        return names;
    }

    private static async Task<List<AgentSummary>> ReadSummariesAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var items = new List<AgentSummary>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new AgentSummary(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                Enum.Parse<AgentStatus>(reader.GetString(3)),
                JsonSerializer.Deserialize<List<string>>(reader.GetString(4)) ?? [],
                Convert.ToInt32(reader.GetValue(5), CultureInfo.InvariantCulture),
                Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture),
                await reader.IsDBNullAsync(7, cancellationToken) ? null : await reader.GetFieldValueAsync<DateTimeOffset>(7, cancellationToken),
                reader.GetString(8)));
        }

        return items;
    }

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        database.OpenAsync(cancellationToken);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql) =>
        connection.CreateCommand(transaction, sql);

    private static void AddParameter(DbCommand command, string name, object? value) => command.AddParameter(name, value);
}
