using NoOrg.Grains;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Health;
using NoOrg.Storage;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Agents;

/// <summary>The registry: discovery from the index that agent grains keep current, on SQLite and PostgreSQL.</summary>
public abstract class AgentDiscoveryTests(ClusterFixture fixture)
{
    private IAgentRegistryGrain Registry => fixture.Client.GetGrain<IAgentRegistryGrain>(0);

    /// <summary>The index the silos write, read directly: the dispatcher's view.</summary>
    private SqlAgentIndex Index => new(new IndexDatabase(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"]));

    [SkippableFact]
    public async Task Plain_heartbeats_live_in_memory_and_a_heartbeat_that_changes_the_status_is_stored_at_once()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("beat");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability]));
        AgentSummary Stored(Page<AgentSummary> page) => Assert.Single(page.Items, a => a.Id == id);

        for (var i = 0; i < 3; i++)
        {
            await agent.HeartbeatAsync();
        }

        // The grain (what the health monitor asks) has the heartbeat; storage and its index row do not, yet.
        Assert.NotNull((await agent.GetAsync())!.LastHeartbeatAt);
        Assert.Null(Stored(await Index.FindAsync(new AgentQuery([capability]))).LastHeartbeatAt);

        await agent.SetStatusAsync(AgentStatus.Offline, "test");
        var back = await agent.HeartbeatAsync();
        Assert.Equal(AgentStatus.Available, back.Status);
        var stored = Stored(await Index.FindAsync(new AgentQuery([capability])));
        Assert.Equal(AgentStatus.Available, stored.Status);
        Assert.Equal(back.LastHeartbeatAt!.Value.ToUnixTimeMilliseconds(), stored.LastHeartbeatAt!.Value.ToUnixTimeMilliseconds());
    }

    [SkippableFact]
    public async Task Find_matches_every_capability_of_the_set_and_the_type_and_status()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (x, y, z) = (TestAgents.NewCapability("x"), TestAgents.NewCapability("y"), TestAgents.NewCapability("z"));
        var (typeA, typeB) = ($"type-{Guid.NewGuid():N}", $"type-{Guid.NewGuid():N}");
        var (a, _) = await agents.RegisterAsync(TestAgents.Registration([x, y], type: typeA));
        var (b, _) = await agents.RegisterAsync(TestAgents.Registration([x], type: typeA));
        var (c, _) = await agents.RegisterAsync(TestAgents.Registration([z, y, x], type: typeB));
        var (d, draining) = await agents.RegisterAsync(TestAgents.Registration([x, y], type: typeA));
        await draining.SetStatusAsync(AgentStatus.Draining, "update");

        var xy = await Registry.FindAsync(new AgentQuery([y, x]));
        var xyAvailable = await Registry.FindAsync(new AgentQuery([x, y], Status: AgentStatus.Available));
        var xOfTypeB = await Registry.FindAsync(new AgentQuery([x], Type: typeB));
        var ofTypeA = await Registry.FindAsync(new AgentQuery(Type: typeA));
        var none = await Registry.FindAsync(new AgentQuery([x, TestAgents.NewCapability("nobody")]));

        Assert.Equal(Sorted(a, c, d), xy.Items.Select(s => s.Id));
        Assert.Equal(3, xy.Total);
        Assert.Equal(Sorted(a, c), xyAvailable.Items.Select(s => s.Id));
        Assert.Equal([c], xOfTypeB.Items.Select(s => s.Id));
        Assert.Equal(Sorted(a, b, d), ofTypeA.Items.Select(s => s.Id));
        Assert.Empty(none.Items);
        Assert.Equal(0, none.Total);

        var summary = xOfTypeB.Items[0];
        Assert.Equal([z, y, x], summary.Capabilities);
        Assert.Equal((typeB, AgentStatus.Available, 0, 2), (summary.Type, summary.Status, summary.ActiveTasks, summary.MaxConcurrentTasks));
    }

    [SkippableFact]
    public async Task Find_pages_through_the_matches()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("paged");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await agents.RegisterAsync(TestAgents.Registration([capability]))).Id);
        }

        var first = await Registry.FindAsync(new AgentQuery([capability], Take: 2));
        var last = await Registry.FindAsync(new AgentQuery([capability], Skip: 4, Take: 2));

        Assert.Equal(ids.Order(StringComparer.Ordinal).Take(2), first.Items.Select(s => s.Id));
        Assert.Equal((5L, true), (first.Total, first.HasMore));
        Assert.Equal(ids.Order(StringComparer.Ordinal).Skip(4), last.Items.Select(s => s.Id));
        Assert.False(last.HasMore);
        await Assert.ThrowsAsync<ValidationException>(() => Registry.FindAsync(new AgentQuery([capability], Take: 0)));
        await Assert.ThrowsAsync<ValidationException>(() => Registry.FindAsync(new AgentQuery([" "])));
    }

    [SkippableFact]
    public async Task Index_follows_every_change_of_an_agent()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (before, after) = (TestAgents.NewCapability("before"), TestAgents.NewCapability("after"));
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([before], maxConcurrentTasks: 1));

        await TestAgents.HoldAsync(fixture.Client, id, before);
        var busy = Assert.Single((await Registry.FindAsync(new AgentQuery([before]))).Items);
        await agent.UpdateAsync(new AgentUpdate(Capabilities: [after], MaxConcurrentTasks: 2));
        var moved = (await Registry.FindAsync(new AgentQuery([before]))).Total;
        var updated = Assert.Single((await Registry.FindAsync(new AgentQuery([after]))).Items);
        await agent.UnregisterAsync("done");
        var gone = (await Registry.FindAsync(new AgentQuery([after]))).Total;

        Assert.Equal((id, AgentStatus.Busy, 1), (busy.Id, busy.Status, busy.ActiveTasks));
        Assert.Equal(0, moved);
        Assert.Equal((AgentStatus.Available, 1, 2), (updated.Status, updated.ActiveTasks, updated.MaxConcurrentTasks));
        Assert.Equal(0, gone);
    }

    [SkippableFact]
    public async Task Counts_are_by_status_and_type()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var type = $"counted-{Guid.NewGuid():N}";
        await agents.RegisterAsync(TestAgents.Registration(["a"], type: type));
        await agents.RegisterAsync(TestAgents.Registration(["a"], type: type));
        var (_, draining) = await agents.RegisterAsync(TestAgents.Registration(["a"], type: type));
        await draining.SetStatusAsync(AgentStatus.Draining, "soon gone");

        var counts = await Registry.CountAsync();

        Assert.Equal(3, counts.ByType[type]);
        Assert.True(counts.ByStatus[AgentStatus.Draining] >= 1);
        Assert.True(counts.ByStatus[AgentStatus.Available] >= 2);
        Assert.Equal(counts.Total, counts.ByStatus.Values.Sum());
        Assert.Equal(counts.Total, counts.ByType.Values.Sum());
        Assert.Equal(Enum.GetValues<AgentStatus>().Order(), counts.ByStatus.Keys.Order());
    }

    [SkippableFact]
    public async Task Capabilities_lists_every_offered_capability_once_sorted()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (b, a) = ("zz-b-" + Guid.NewGuid().ToString("N"), "zz-a-" + Guid.NewGuid().ToString("N"));
        await agents.RegisterAsync(TestAgents.Registration([b, a]));
        await agents.RegisterAsync(TestAgents.Registration([a]));

        var all = await Registry.CapabilitiesAsync();

        Assert.Equal(1, all.Count(c => c == a));
        Assert.Contains(b, all);
        Assert.Equal(all.Order(StringComparer.Ordinal), all);
        Assert.Equal(all.Distinct(), all);
    }

    [SkippableFact]
    public async Task Candidates_accept_work_have_room_and_come_least_loaded_first()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (x, y) = (TestAgents.NewCapability("x"), TestAgents.NewCapability("y"));
        // Each loaded agent holds a real task that only it can take (its own third capability).
        var (q, h, f) = (TestAgents.NewCapability("quarter"), TestAgents.NewCapability("half"), TestAgents.NewCapability("full"));
        var (quarter, _) = await agents.RegisterAsync(TestAgents.Registration([x, y, q], maxConcurrentTasks: 4));
        var (idle, _) = await agents.RegisterAsync(TestAgents.Registration([x, y], maxConcurrentTasks: 2));
        var (half, _) = await agents.RegisterAsync(TestAgents.Registration([x, y, h], maxConcurrentTasks: 2));
        var (full, _) = await agents.RegisterAsync(TestAgents.Registration([x, y, f], maxConcurrentTasks: 1));
        var (_, drainingAgent) = await agents.RegisterAsync(TestAgents.Registration([x, y], maxConcurrentTasks: 8));
        await agents.RegisterAsync(TestAgents.Registration([x], maxConcurrentTasks: 8));
        await TestAgents.HoldAsync(fixture.Client, quarter, q);
        await TestAgents.HoldAsync(fixture.Client, half, h);
        await TestAgents.HoldAsync(fixture.Client, full, f);
        await drainingAgent.SetStatusAsync(AgentStatus.Draining, "not now");

        var candidates = await Index.CandidatesAsync([y, x], 10);
        var top = await Index.CandidatesAsync([x, y], 2);
        var coverage = await Index.CapabilityCoverageAsync([x, y]);

        Assert.Equal([idle, quarter, half], candidates.Select(c => c.Id));
        Assert.Equal([idle, quarter], top.Select(c => c.Id));
        Assert.Equal((5, 4), coverage);
        Assert.Equal((0, 0), await Index.CapabilityCoverageAsync([TestAgents.NewCapability("nobody")]));
    }

    [SkippableFact]
    public async Task The_index_follows_each_stored_state_and_a_tombstone_removes_the_agent()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = TestAgents.NewCapability("versioned");
        var id = $"projected-{Guid.NewGuid():N}";
        var now = DateTimeOffset.UtcNow;
        var v1 = new AgentSnapshot(id, TestAgents.Registration([capability, "stale"], name: "first"), AgentStatus.Available, null, [], now, now, now, 1);
        var rows = new AgentStateRows(fixture.Provider.ToDialect(), fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"]);
        var index = Index;

        var first = await rows.WriteAsync(v1);
        await rows.WriteAsync(v1 with { Registration = v1.Registration with { Name = "second", Capabilities = [capability] }, Version = 2, Health = HealthStatus.Degraded });
        var stale = await rows.WriteAsync(v1 with { Registration = v1.Registration with { Name = "late" }, Version = 3 }, expectedVersion: first);

        Assert.Null(stale); // refused by the state's version: the index cannot be moved by it either
        var found = Assert.Single((await index.FindAsync(new AgentQuery([capability]))).Items);
        Assert.Equal(("second", AgentStatus.Available), (found.Name, found.Status));
        Assert.Equal([capability], found.Capabilities);
        Assert.Equal(now.ToUnixTimeMilliseconds(), found.LastHeartbeatAt!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(0, (await index.FindAsync(new AgentQuery(["stale"]))).Items.Count(a => a.Id == id));
        Assert.Equal([id], (await index.CandidatesAsync([capability], 10)).Select(c => c.Id));

        await rows.UnregisterAsync(id, 4);
        Assert.Equal(0, (await index.FindAsync(new AgentQuery([capability]))).Total);
    }

    [SkippableFact]
    public async Task Registry_answers_after_a_full_cluster_restart()
    {
        var created = await ClusterDatabases.CreateAsync(fixture.Provider);
        Skip.If(created is null, ClusterDatabases.SkipReason(fixture.Provider));
        var (database, provider, connectionString) = created.Value;
        await using var _ = database;
        var properties = NoOrgTestCluster.SettingsFor(provider, connectionString);
        var capability = TestAgents.NewCapability("durable");
        var ids = new List<string>();
        var held = "";
        var own = TestAgents.NewCapability("own");

        var first = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var id = $"agent-{Guid.NewGuid():N}";
                ids.Add(id);
                await first.Client.GetGrain<IAgentGrain>(id).RegisterAsync(TestAgents.Registration(i == 0 ? [capability, own] : [capability], maxConcurrentTasks: 2));
            }

            held = await TestAgents.HoldAsync(first.Client, ids[0], own);
        }
        finally
        {
            await first.StopAllSilosAsync();
            await first.DisposeAsync();
        }

        var second = await NoOrgTestCluster.StartAsync(properties);
        try
        {
            var registry = second.Client.GetGrain<IAgentRegistryGrain>(0);
            var found = await registry.FindAsync(new AgentQuery([capability]));
            var counts = await registry.CountAsync();

            Assert.Equal(ids.Order(StringComparer.Ordinal), found.Items.Select(s => s.Id));
            Assert.Equal(1, found.Items.Single(s => s.Id == ids[0]).ActiveTasks);
            Assert.Equal(3, counts.Total);
            Assert.Equal(new[] { capability, own }.Order(StringComparer.Ordinal), await registry.CapabilitiesAsync());
            var agent = await second.Client.GetGrain<IAgentGrain>(ids[0]).GetAsync();
            Assert.Equal([held], agent!.ActiveTaskIds); // rebuilt from the task index by the new activation
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    private static IEnumerable<string> Sorted(params string[] ids) => ids.Order(StringComparer.Ordinal);
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentDiscoveryTests(SqliteClusterFixture fixture) : AgentDiscoveryTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentDiscoveryTests(PostgresClusterFixture fixture) : AgentDiscoveryTests(fixture);
