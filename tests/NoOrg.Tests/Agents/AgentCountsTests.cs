using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Storage;
using NoOrg.Testing;

namespace NoOrg.Tests.Agents;

/// <summary>
/// Agent counts and discovery totals come from counters the database keeps (migration 0021_agent_counts): they must
/// agree with the rows after every kind of change the index sees (registration, load, status, capabilities,
/// removal), on both databases.
/// </summary>
public sealed class AgentCountsTests
{
    [SkippableTheory]
    [InlineData(StorageDialect.Sqlite)]
    [InlineData(StorageDialect.Postgres)]
    public async Task Counts_and_totals_follow_every_change_of_the_index(StorageDialect dialect)
    {
        Skip.If(dialect == StorageDialect.Postgres && !TestDatabases.PostgresAvailable, TestDatabases.PostgresSkipReason);
        await using var database = await TestDatabases.CreateAsync(dialect);
        await new SchemaMigrator(dialect, database.ConnectionString).MigrateAsync();
        var index = new SqlAgentIndex(new IndexDatabase(dialect, database.ConnectionString));
        var rows = new AgentStateRows(dialect, database.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        AgentSnapshot Agent(string id, string type, string[] capabilities, int max, AgentStatus status, long version = 1) =>
            new(id, new AgentRegistration(id, type, "", capabilities, max, new Dictionary<string, string>()), status, null, [], now, now, now, version);

        await rows.WriteAsync(Agent("a1", "planner", ["x", "y"], 2, AgentStatus.Available));
        await rows.WriteAsync(Agent("a2", "planner", ["x"], 1, AgentStatus.Draining));
        await rows.WriteAsync(Agent("a3", "coder", ["y"], 1, AgentStatus.Available));

        await AssertCountsAsync(index, total: 3, available: 2, busy: 0, draining: 1, planners: 2, coders: 1);
        Assert.Equal((2L, 2L, 0L), (await TotalAsync(index, ["x"]), await TotalAsync(index, ["y"]), await TotalAsync(index, ["z"])));
        Assert.Equal((3L, 2L, 2L), (await TotalAsync(index, []), await TotalAsync(index, [], type: "planner"), await TotalAsync(index, [], status: AgentStatus.Available)));

        // A task write counts the load (migration 0018); at capacity the agent lists as busy.
        await SetLoadAsync(dialect, database.ConnectionString, "a3", 1);
        await AssertCountsAsync(index, total: 3, available: 1, busy: 1, draining: 1, planners: 2, coders: 1);
        Assert.Equal(1L, await TotalAsync(index, [], type: "coder", status: AgentStatus.Busy));

        // New capabilities, and back from draining.
        await rows.WriteAsync(Agent("a1", "planner", ["y", "z"], 2, AgentStatus.Available, version: 2), expectedVersion: 1);
        await rows.WriteAsync(Agent("a2", "planner", ["x"], 1, AgentStatus.Available, version: 2), expectedVersion: 1);
        await AssertCountsAsync(index, total: 3, available: 2, busy: 1, draining: 0, planners: 2, coders: 1);
        Assert.Equal((1L, 2L, 1L), (await TotalAsync(index, ["x"]), await TotalAsync(index, ["y"]), await TotalAsync(index, ["z"])));

        // Gone from the index: every count it was in drops.
        await rows.UnregisterAsync("a2", version: 3);
        await AssertCountsAsync(index, total: 2, available: 1, busy: 1, draining: 0, planners: 1, coders: 1);
        Assert.Equal((0L, 2L), (await TotalAsync(index, ["x"]), await TotalAsync(index, [])));

        // Totals the counters cannot answer are exact counts, and agree.
        Assert.Equal(1L, await TotalAsync(index, ["y", "z"]));
        Assert.Equal(1L, await TotalAsync(index, ["y"], type: "coder"));
    }

    private static async Task AssertCountsAsync(SqlAgentIndex index, long total, long available, long busy, long draining, long planners, long coders)
    {
        var counts = await index.CountAsync();
        Assert.Equal(
            (total, available, busy, draining, planners, coders),
            (counts.Total, counts.ByStatus[AgentStatus.Available], counts.ByStatus[AgentStatus.Busy], counts.ByStatus[AgentStatus.Draining],
                counts.ByType.GetValueOrDefault("planner"), counts.ByType.GetValueOrDefault("coder")));
    }

    private static async Task<long> TotalAsync(SqlAgentIndex index, string[] capabilities, string? type = null, AgentStatus? status = null) =>
        (await index.FindAsync(new AgentQuery(capabilities, type, status))).Total;

    private static async Task SetLoadAsync(StorageDialect dialect, string connectionString, string agentId, int load)
    {
        await using var connection = await StorageConnections.OpenAsync(dialect, connectionString, CancellationToken.None);
        await using var command = connection.CreateCommand(null, "UPDATE noorg_agents SET active_tasks = @load WHERE agent_id = @id");
        command.AddParameter("@load", load);
        command.AddParameter("@id", agentId);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
