using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Agents;

/// <summary>Registering, updating, status and history of one agent grain, on SQLite and PostgreSQL.</summary>
public abstract class AgentRegistrationTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task Register_starts_available_and_repeating_it_changes_nothing()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (id, agent) = agents.New();
        var registration = TestAgents.Registration([" translate ", "summarize", "translate"], maxConcurrentTasks: 3) with { Name = "  Translator " };

        var first = await agent.RegisterAsync(registration);
        var again = await agent.RegisterAsync(registration with { Capabilities = ["summarize", "translate"] });

        Assert.Equal(id, first.Id);
        Assert.Equal(AgentStatus.Available, first.Status);
        Assert.Equal("Translator", first.Registration.Name);
        Assert.Equal(["translate", "summarize"], first.Registration.Capabilities);
        Assert.Empty(first.ActiveTaskIds);
        Assert.Equivalent(first, again, strict: true);
        var history = await agent.GetHistoryAsync(0, 10);
        Assert.Equal(AgentEventKind.Registered, Assert.Single(history.Items).Kind);
        Assert.Equal(1, history.Total);
    }

    [SkippableFact]
    public async Task Register_with_other_details_is_a_conflict_naming_what_differs()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var registration = TestAgents.Registration(["a", "b"]);
        var (_, agent) = await agents.RegisterAsync(registration);

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            agent.RegisterAsync(registration with { Capabilities = ["a"], MaxConcurrentTasks = 9 }));

        Assert.Equal("conflict", error.Code);
        Assert.Contains("Capabilities", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrentTasks", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Name", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await agent.GetAsync())!.Registration.MaxConcurrentTasks);
    }

    [SkippableFact]
    public async Task Register_rejects_invalid_details_naming_the_field()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = agents.New();
        var valid = TestAgents.Registration(["a"]);
        var tooMuchMetadata = Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => "v");
        (AgentRegistration Registration, string Field)[] cases =
        [
            (valid with { Name = " " }, "name"),
            (valid with { Name = new string('n', 201) }, "name"),
            (valid with { Name = "a\0b" }, "name"),
            (valid with { Type = "" }, "type"),
            (valid with { Type = new string('t', 101) }, "type"),
            (valid with { Type = "\u001b[31mred" }, "type"),
            (valid with { Capabilities = [] }, "capabilities"),
            (valid with { Capabilities = ["a", "  "] }, "capabilities[1]"),
            (valid with { Capabilities = [new string('c', 101)] }, "capabilities[0]"),
            (valid with { Capabilities = [.. Enumerable.Range(0, 101).Select(i => $"c{i}")] }, "capabilities"),
            (valid with { MaxConcurrentTasks = 0 }, "maxConcurrentTasks"),
            (valid with { MaxConcurrentTasks = 1001 }, "maxConcurrentTasks"),
            (valid with { Metadata = tooMuchMetadata }, "metadata"),
            (valid with { Metadata = new Dictionary<string, string> { ["big"] = new string('v', 5_000_000) } }, "metadata[big]"),
        ];

        foreach (var (registration, field) in cases)
        {
            var error = await Assert.ThrowsAsync<ValidationException>(() => agent.RegisterAsync(registration));
            Assert.Equal("validation", error.Code);
            Assert.Contains(error.Problems, p => p.StartsWith(field + ":", StringComparison.Ordinal));
        }

        var both = await Assert.ThrowsAsync<ValidationException>(() => agent.RegisterAsync(valid with { Name = "", MaxConcurrentTasks = 0 }));
        Assert.Equal(2, both.Problems.Count); // every problem at once

        Assert.Null(await agent.GetAsync());
    }

    [SkippableFact]
    public async Task Update_changes_only_the_given_details_and_records_them()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"], maxConcurrentTasks: 2));
        await agent.TryReserveAsync("t1", []);

        var updated = await agent.UpdateAsync(new AgentUpdate(Capabilities: ["a", "b"], MaxConcurrentTasks: 1));
        var unchanged = await agent.UpdateAsync(new AgentUpdate(Name: updated.Registration.Name));

        Assert.Equal(["a", "b"], updated.Registration.Capabilities);
        Assert.Equal(1, updated.Registration.MaxConcurrentTasks);
        Assert.Equal("test agent", updated.Registration.Name);
        Assert.Equal(AgentStatus.Busy, updated.Status); // one task held, one allowed
        Assert.Equal(updated.Version, unchanged.Version);
        var latest = (await agent.GetHistoryAsync(0, 2)).Items;
        Assert.Equal([AgentEventKind.Updated, AgentEventKind.Registered], latest.Select(e => e.Kind));
        Assert.Contains("Capabilities", latest[0].Detail, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ValidationException>(() => agent.UpdateAsync(new AgentUpdate(Capabilities: [])));
    }

    [SkippableFact]
    public async Task Status_changes_are_kept_in_the_history_newest_first()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"]));

        Assert.Equal(AgentStatus.Draining, (await agent.SetStatusAsync(AgentStatus.Draining, "maintenance")).Status);
        var error = await agent.SetStatusAsync(AgentStatus.Error, "model crashed");
        Assert.Equal((AgentStatus.Error, "model crashed"), (error.Status, error.StatusReason));
        Assert.Equal(AgentStatus.Available, (await agent.SetStatusAsync(AgentStatus.Available, "fixed")).Status);
        Assert.Equal(AgentStatus.Offline, (await agent.SetStatusAsync(AgentStatus.Offline, "host down")).Status);
        var back = await agent.HeartbeatAsync();
        Assert.Equal(AgentStatus.Available, back.Status);
        Assert.NotNull(back.LastHeartbeatAt);

        var history = await agent.GetHistoryAsync(0, 100);
        Assert.Equal(6, history.Total);
        Assert.Equal([6L, 5, 4, 3, 2, 1], history.Items.Select(e => e.Sequence));
        Assert.Equal(
            [AgentStatus.Available, AgentStatus.Offline, AgentStatus.Available, AgentStatus.Error, AgentStatus.Draining, AgentStatus.Available],
            history.Items.Select(e => e.Status));
        Assert.All(history.Items.Take(5), e => Assert.Equal(AgentEventKind.StatusChanged, e.Kind));
        Assert.Contains("maintenance", history.Items[4].Detail, StringComparison.Ordinal);
        Assert.Contains("heartbeat", history.Items[0].Detail, StringComparison.Ordinal);

        var page = await agent.GetHistoryAsync(4, 10);
        Assert.Equal([2L, 1], page.Items.Select(e => e.Sequence));
        Assert.False(page.HasMore);
    }

    [SkippableFact]
    public async Task Busy_cannot_be_set_by_hand()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"]));

        var error = await Assert.ThrowsAsync<ValidationException>(() => agent.SetStatusAsync(AgentStatus.Busy, "please"));

        Assert.Contains("Busy", error.Message, StringComparison.Ordinal);
        Assert.Equal(AgentStatus.Available, (await agent.GetAsync())!.Status);
    }

    [SkippableFact]
    public async Task Unregister_forgets_the_agent_and_registering_again_starts_fresh()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var (_, agent) = await agents.RegisterAsync(TestAgents.Registration(["a"]));
        await agent.SetStatusAsync(AgentStatus.Draining, "going away");
        var before = (await agent.GetAsync())!;

        await agent.UnregisterAsync("retired");
        await agent.UnregisterAsync("retired"); // a retry is harmless

        Assert.Null(await agent.GetAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => agent.HeartbeatAsync());
        await Assert.ThrowsAsync<NotFoundException>(() => agent.SetStatusAsync(AgentStatus.Draining, "x"));
        await Assert.ThrowsAsync<NotFoundException>(() => agent.GetHistoryAsync(0, 10));
        Assert.False(await agent.TryReserveAsync("t1", []));

        var again = await agent.RegisterAsync(TestAgents.Registration(["b"]));
        Assert.Equal(AgentStatus.Available, again.Status);
        Assert.Equal(["b"], again.Registration.Capabilities);
        Assert.True(again.Version > before.Version);
        var history = await agent.GetHistoryAsync(0, 10);
        Assert.Equal(1, history.Total);
        Assert.Equal(AgentEventKind.Registered, history.Items[0].Kind);
    }

    [SkippableFact]
    public async Task State_survives_deactivation()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await using var agents = new TestAgents(fixture.Client);
        var capability = TestAgents.NewCapability("survives");
        var (id, agent) = await agents.RegisterAsync(TestAgents.Registration([capability]));
        await TestAgents.HoldAsync(fixture.Client, id, capability);
        var before = (await agent.GetAsync())!;

        await fixture.Cluster.DeactivateAsync(agent);

        var after = await agent.GetAsync();
        Assert.Single(before.ActiveTaskIds);
        Assert.Equivalent(before, after, strict: true);
        Assert.Equal(1, (await agent.GetHistoryAsync(0, 10)).Total);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAgentRegistrationTests(SqliteClusterFixture fixture) : AgentRegistrationTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAgentRegistrationTests(PostgresClusterFixture fixture) : AgentRegistrationTests(fixture);
