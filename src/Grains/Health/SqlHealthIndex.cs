using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using NoOrg.Storage;

namespace NoOrg.Grains.Health;

/// <summary><see cref="IHealthIndex"/> on the tables of migration 0007_agent_health; the same SQL for PostgreSQL and SQLite.</summary>
internal sealed class SqlHealthIndex(IndexDatabase database) : IHealthIndex
{
    private const string SummaryColumns =
        "agent_id, status, reasons, failing_checks, uptime, success_rate, error_rate, median_ms, p95_ms, samples, last_heartbeat_at, consecutive_failures, checked_at";

    private const string IssueColumns =
        "issue_id, agent_id, check_name, severity, state, detail, occurrences, opened_at, updated_at, resolved_at, resolved_by, note";

    public async Task ProjectAsync(AgentHealthSummary agent, long version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var m = agent.Metrics;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, $"""
            INSERT INTO noorg_agent_health ({SummaryColumns}, version)
            VALUES (@id, @status, @reasons, @failing, @uptime, @success, @error, @median, @p95, @samples, @heartbeat, @failures, @checked, @version)
            ON CONFLICT (agent_id) DO UPDATE
               SET status = excluded.status, reasons = excluded.reasons, failing_checks = excluded.failing_checks,
                   uptime = excluded.uptime, success_rate = excluded.success_rate, error_rate = excluded.error_rate,
                   median_ms = excluded.median_ms, p95_ms = excluded.p95_ms, samples = excluded.samples,
                   last_heartbeat_at = excluded.last_heartbeat_at, consecutive_failures = excluded.consecutive_failures,
                   checked_at = excluded.checked_at, version = excluded.version
             WHERE noorg_agent_health.version < excluded.version
            """);
        command.AddParameter("id", agent.AgentId);
        command.AddParameter("status", agent.Status.ToString());
        command.AddParameter("reasons", JsonSerializer.Serialize(agent.Reasons));
        command.AddParameter("failing", JsonSerializer.Serialize(agent.FailingChecks));
        command.AddParameter("uptime", m.Uptime);
        command.AddParameter("success", m.SuccessRate);
        command.AddParameter("error", m.ErrorRate);
        command.AddParameter("median", m.MedianResponseTime is { } median ? (long)median.TotalMilliseconds : null);
        command.AddParameter("p95", m.P95ResponseTime is { } p95 ? (long)p95.TotalMilliseconds : null);
        command.AddParameter("samples", m.Samples);
        command.AddParameter("heartbeat", m.LastHeartbeatAt?.ToUniversalTime());
        command.AddParameter("failures", m.ConsecutiveFailures);
        command.AddParameter("checked", agent.CheckedAt.ToUniversalTime());
        command.AddParameter("version", version);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RemoveAsync(string agentId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, "DELETE FROM noorg_agent_health WHERE agent_id = @id");
        command.AddParameter("id", agentId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UpsertIssuesAsync(IReadOnlyList<HealthIssue> issues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(issues);
        if (issues.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var issue in issues)
        {
            await using var command = connection.CreateCommand(transaction, $"""
                INSERT INTO noorg_health_issues ({IssueColumns})
                VALUES (@id, @agent, @check, @severity, @state, @detail, @occurrences, @opened, @updated, @resolved, @by, @note)
                ON CONFLICT (issue_id) DO UPDATE
                   SET severity = excluded.severity, state = excluded.state, detail = excluded.detail,
                       occurrences = excluded.occurrences, updated_at = excluded.updated_at,
                       resolved_at = excluded.resolved_at, resolved_by = excluded.resolved_by, note = excluded.note
                """);
            command.AddParameter("id", issue.Id);
            command.AddParameter("agent", issue.AgentId);
            command.AddParameter("check", issue.Check);
            command.AddParameter("severity", issue.Severity.ToString());
            command.AddParameter("state", issue.State.ToString());
            command.AddParameter("detail", issue.Detail);
            command.AddParameter("occurrences", issue.Occurrences);
            command.AddParameter("opened", issue.OpenedAt.ToUniversalTime());
            command.AddParameter("updated", issue.UpdatedAt.ToUniversalTime());
            command.AddParameter("resolved", issue.ResolvedAt?.ToUniversalTime());
            command.AddParameter("by", issue.ResolvedBy);
            command.AddParameter("note", issue.Note);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<HealthStatus, long>> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, "SELECT status, COUNT(*) FROM noorg_agent_health GROUP BY status");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = Enum.GetValues<HealthStatus>().ToDictionary(s => s, _ => 0L);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[Enum.Parse<HealthStatus>(reader.GetString(0))] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        }

        return counts;
    }

    public async Task<IReadOnlyList<AgentHealthSummary>> ListAsync(HealthStatus status, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null,
            $"SELECT {SummaryColumns} FROM noorg_agent_health WHERE status = @status ORDER BY agent_id LIMIT @limit");
        command.AddParameter("status", status.ToString());
        command.AddParameter("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<AgentHealthSummary>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new AgentHealthSummary(
                reader.GetString(0),
                Enum.Parse<HealthStatus>(reader.GetString(1)),
                JsonSerializer.Deserialize<List<string>>(reader.GetString(2)) ?? [],
                JsonSerializer.Deserialize<List<string>>(reader.GetString(3)) ?? [],
                new AgentHealthMetrics(
                    reader.GetDouble(4),
                    await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetDouble(5),
                    await reader.IsDBNullAsync(6, cancellationToken) ? null : reader.GetDouble(6),
                    await reader.IsDBNullAsync(7, cancellationToken) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(7)),
                    await reader.IsDBNullAsync(8, cancellationToken) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(8)),
                    Convert.ToInt32(reader.GetValue(9), CultureInfo.InvariantCulture),
                    await reader.IsDBNullAsync(10, cancellationToken) ? null : await reader.GetFieldValueAsync<DateTimeOffset>(10, cancellationToken),
                    Convert.ToInt32(reader.GetValue(11), CultureInfo.InvariantCulture)),
                await reader.GetFieldValueAsync<DateTimeOffset>(12, cancellationToken)));
        }

        return items;
    }

    public async Task<Page<HealthIssue>> IssuesAsync(bool includeResolved, int skip, int take, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var filter = includeResolved ? "" : "WHERE state = 'Open'";
        await using var command = connection.CreateCommand(null, $"""
            SELECT COUNT(*) FROM noorg_health_issues {filter};
            SELECT {IssueColumns} FROM noorg_health_issues {filter} ORDER BY opened_at DESC, issue_id LIMIT @take OFFSET @skip
            """);
        command.AddParameter("take", take);
        command.AddParameter("skip", skip);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
        await reader.NextResultAsync(cancellationToken);
        return new Page<HealthIssue>(await ReadIssuesAsync(reader, cancellationToken), total, skip);
    }

    public async Task<HealthIssue?> FindIssueAsync(string issueId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand(null, $"SELECT {IssueColumns} FROM noorg_health_issues WHERE issue_id = @id");
        command.AddParameter("id", issueId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return (await ReadIssuesAsync(reader, cancellationToken)).SingleOrDefault();
    }

    private static async Task<List<HealthIssue>> ReadIssuesAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var items = new List<HealthIssue>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new HealthIssue(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                Enum.Parse<HealthStatus>(reader.GetString(3)),
                Enum.Parse<HealthIssueState>(reader.GetString(4)),
                reader.GetString(5),
                Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture),
                await reader.GetFieldValueAsync<DateTimeOffset>(7, cancellationToken),
                await reader.GetFieldValueAsync<DateTimeOffset>(8, cancellationToken),
                await reader.IsDBNullAsync(9, cancellationToken) ? null : await reader.GetFieldValueAsync<DateTimeOffset>(9, cancellationToken),
                await reader.IsDBNullAsync(10, cancellationToken) ? null : reader.GetString(10),
                await reader.IsDBNullAsync(11, cancellationToken) ? null : reader.GetString(11)));
        }

        return items;
    }

    private Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        database.OpenAsync(cancellationToken);
}
