using System.Diagnostics;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using static NoOrg.Tests.Security.GrainCallAuthCluster;

namespace NoOrg.Tests.Security;

/// <summary>
/// Grain calls from clients with NOORG_SECURITY_REQUIRE_AUTH=true: every refusal is typed, says why, and changes
/// nothing; calls between grains are not checked again.
/// </summary>
public sealed class GrainCallAuthTests(GrainCallAuthCluster fixture) : IClassFixture<GrainCallAuthCluster>
{
    private IClusterClient Client => fixture.Client;

    private ITaskGrain NewTask() => Client.GetGrain<ITaskGrain>($"auth-{Guid.NewGuid():N}");

    private static TaskSpec Spec(string capability = "auth-nobody") => new("auth test", "echo", RequiredCapabilities: [capability]);

    private Task<TaskSnapshot?> ReadAsAdminAsync(ITaskGrain task) => AsAsync(Bootstrap, task.GetAsync);

    [Fact]
    public async Task A_call_without_a_credential_is_refused_and_creates_nothing()
    {
        var task = NewTask();

        var refused = await Assert.ThrowsAsync<UnauthorizedException>(() => task.CreateAsync(Spec(), "anonymous"));

        Assert.Equal(ErrorCodes.Unauthorized, refused.Code);
        Assert.StartsWith("ITaskGrain.CreateAsync needs a credential: set NOORG_SECURITY_CLIENT_CREDENTIAL", refused.Message, StringComparison.Ordinal);
        Assert.Null(await ReadAsAdminAsync(task));
        await Assert.ThrowsAsync<UnauthorizedException>(() => Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key).ListAsync());
    }

    [Fact]
    public async Task A_valid_operator_key_creates_and_cancels_a_task()
    {
        var operatorKey = (await fixture.CreateKeyAsync(AccessRole.Operator)).Secret;
        var task = NewTask();

        await AsAsync(operatorKey, () => task.CreateAsync(Spec(), "op"));
        var cancelled = await AsAsync(operatorKey, () => task.CancelAsync("done with it", "op"));

        Assert.Equal(TaskState.Cancelled, cancelled.State);
        Assert.Equal(TaskState.Cancelled, (await ReadAsAdminAsync(task))!.State);
    }

    [Fact]
    public async Task A_reader_key_reads_but_may_not_cancel_and_the_task_stays_as_it_was()
    {
        var readerKey = (await fixture.CreateKeyAsync(AccessRole.Reader)).Secret;
        var task = NewTask();
        var created = await AsAsync(Bootstrap, () => task.CreateAsync(Spec(), "admin"));

        Assert.Equal(created.Id, (await AsAsync(readerKey, task.GetAsync))!.Id);
        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => AsAsync(readerKey, () => task.CancelAsync("not mine", "reader")));
        var keysRefused = await Assert.ThrowsAsync<ForbiddenException>(() =>
            AsAsync(readerKey, () => Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key).ListAsync()));

        Assert.Equal(ErrorCodes.Forbidden, refused.Code);
        Assert.Equal("ITaskGrain.CancelAsync needs the operator role; this credential has: reader", refused.Message);
        Assert.Equal("IApiKeysGrain.ListAsync needs the admin role; this credential has: reader", keysRefused.Message);
        var after = (await ReadAsAdminAsync(task))!;
        Assert.Equal(created.State, after.State);
        Assert.Equal(created.Version, after.Version);
    }

    [Fact]
    public async Task A_revoked_stored_key_is_refused_within_the_cache_time_and_creates_nothing()
    {
        var key = await fixture.CreateKeyAsync(AccessRole.Operator);
        await AsAsync(key.Secret, () => NewTask().CreateAsync(Spec(), "op")); // works, and is now cached on a silo

        await AsAsync(Bootstrap, () => Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key).RevokeAsync(key.Key.Id));
        var revokedAt = Stopwatch.StartNew();
        var (refused, task) = await Eventually.ReturnsAsync(async () =>
        {
            var probe = NewTask();
            try
            {
                await AsAsync(key.Secret, () => probe.CreateAsync(Spec(), "op"));
                return ((UnauthorizedException?)null, probe);
            }
            catch (UnauthorizedException e)
            {
                return (e, probe);
            }
        }, r => r.Item1 is not null, TimeSpan.FromSeconds(CacheSeconds + 10), "the revoked key to be refused");

        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(CacheSeconds + 4), $"refused only after {revokedAt.Elapsed}");
        Assert.Equal("ITaskGrain.CreateAsync refused: the API key was revoked", refused!.Message);
        Assert.Null(await ReadAsAdminAsync(task));
    }

    [Fact]
    public async Task An_expired_jwt_is_refused_while_a_current_one_works()
    {
        var now = DateTime.UtcNow;
        var expired = fixture.Token("operator", now.AddMinutes(-10), now.AddMinutes(-5));
        var current = fixture.Token("operator", now.AddMinutes(-1), now.AddMinutes(5));
        var refusedTask = NewTask();
        var createdTask = NewTask();

        var refused = await Assert.ThrowsAsync<UnauthorizedException>(() => AsAsync(expired, () => refusedTask.CreateAsync(Spec(), "jwt")));
        await AsAsync(current, () => createdTask.CreateAsync(Spec(), "jwt"));

        Assert.Equal("ITaskGrain.CreateAsync refused: the token has expired", refused.Message);
        Assert.Null(await ReadAsAdminAsync(refusedTask));
        Assert.NotNull(await ReadAsAdminAsync(createdTask));
    }

    [Fact]
    public async Task An_agent_key_acts_for_its_own_agent_and_is_refused_for_another()
    {
        var own = $"agent-own-{Guid.NewGuid():N}";
        var other = $"agent-other-{Guid.NewGuid():N}";
        var agentKey = (await fixture.CreateKeyAsync(AccessRole.Agent, own)).Secret;
        var registration = new AgentRegistration("auth agent", "test", "an agent of the auth tests", ["auth-nobody"], 1, new Dictionary<string, string>());

        await AsAsync(agentKey, () => Client.GetGrain<IAgentGrain>(own).RegisterAsync(registration));
        var beat = await AsAsync(agentKey, () => Client.GetGrain<IAgentGrain>(own).HeartbeatAsync());
        var forOther = await Assert.ThrowsAsync<ForbiddenException>(() =>
            AsAsync(agentKey, () => Client.GetGrain<IAgentGrain>(other).RegisterAsync(registration)));

        var otherCapability = $"auth-other-{Guid.NewGuid():N}";
        await AsAsync(Bootstrap, () => Client.GetGrain<IAgentGrain>(other).RegisterAsync(registration with { Capabilities = [otherCapability] }));
        var task = NewTask();
        await AsAsync(Bootstrap, () => task.CreateAsync(Spec(otherCapability), "admin"));
        try
        {
            await AsAsync(Bootstrap, () => task.AssignAsync(other, "admin"));
        }
        catch (NoOrgException)
        {
            // dispatch was quicker
        }

        var assigned = await Eventually.ReturnsAsync(() => ReadAsAdminAsync(task), t => t?.AssignedTo == other, TimeSpan.FromSeconds(10),
            "the task to be assigned to the other agent");
        var startForOther = await Assert.ThrowsAsync<ForbiddenException>(() => AsAsync(agentKey, () => task.StartAsync(other)));
        var readOther = await Assert.ThrowsAsync<ForbiddenException>(() => AsAsync(agentKey, task.GetAsync));
        var create = await Assert.ThrowsAsync<ForbiddenException>(() => AsAsync(agentKey, () => NewTask().CreateAsync(Spec(), "agent")));

        Assert.Equal(own, beat.Id);
        Assert.Equal($"IAgentGrain.RegisterAsync: this agent credential acts only for '{own}'; the request is for '{other}'", forOther.Message);
        Assert.Equal($"ITaskGrain.StartAsync: this agent credential acts only for '{own}'; the request is for '{other}'", startForOther.Message);
        Assert.StartsWith("ITaskGrain.GetAsync: this agent credential may read only the tasks assigned to", readOther.Message, StringComparison.Ordinal);
        Assert.Equal("ITaskGrain.CreateAsync needs the operator role; this credential has: agent", create.Message);
        var after = (await ReadAsAdminAsync(task))!;
        Assert.Equal(TaskState.Assigned, after.State);
        Assert.Equal(assigned!.Version, after.Version);
        Assert.Equal([otherCapability], (await AsAsync(Bootstrap, Client.GetGrain<IAgentGrain>(other).GetAsync))!.Registration.Capabilities);
    }

    [Fact]
    public async Task Calls_between_grains_pass_without_a_credential_while_the_same_call_from_a_client_is_refused()
    {
        var readerKey = (await fixture.CreateKeyAsync(AccessRole.Reader)).Secret;
        var probe = Client.GetGrain<IGrainCallProbeGrain>(0);

        var direct = await Assert.ThrowsAsync<ForbiddenException>(() =>
            AsAsync(readerKey, () => Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key).ListAsync()));
        var counted = await AsAsync(readerKey, probe.CountKeysAsync); // the probe's own call to the keys grain carries no credential
        var anonymous = await Assert.ThrowsAsync<UnauthorizedException>(probe.CountKeysAsync);

        Assert.Contains("needs the admin role", direct.Message, StringComparison.Ordinal);
        Assert.True(counted >= 1, $"the probe counted {counted} keys");
        Assert.StartsWith("IGrainCallProbeGrain.CountKeysAsync needs a credential", anonymous.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_holding_an_agent_key_is_dispatched_a_task_and_completes_it()
    {
        var agentId = $"auth-worker-{Guid.NewGuid():N}";
        var capability = $"auth-cap-{Guid.NewGuid():N}";
        var agentKey = (await fixture.CreateKeyAsync(AccessRole.Agent, agentId)).Secret;
        var operatorKey = (await fixture.CreateKeyAsync(AccessRole.Operator)).Secret;

        // Every call the worker makes (register, connect, start, complete) flows from here, so it presents the agent key.
        await using var worker = await AsAsync(agentKey, () => Workers.TestWorker.StartAsync(Client, agentId, [capability], 1));
        var task = NewTask();
        await AsAsync(operatorKey, () => task.CreateAsync(new TaskSpec("auth e2e", "echo", InputJson: "{\"n\":1}", RequiredCapabilities: [capability]), "op"));

        var done = await Eventually.ReturnsAsync(() => AsAsync(operatorKey, task.GetAsync), t => t?.IsTerminal == true,
            TimeSpan.FromSeconds(20), "the worker to complete the task");

        Assert.Equal(TaskState.Completed, done!.State);
        Assert.Equal(agentId, done.AssignedTo);
        Assert.Equal("{\"n\":1}", done.ResultJson);
        // The cluster can have the completion before the worker's call has returned and recorded it.
        await Eventually.ReturnsAsync(() => Task.FromResult(worker.Service.Reported.ToArray()), r => r.Length > 0, TimeSpan.FromSeconds(10),
            "the worker to record its report");
        Assert.Equal([task.GetPrimaryKeyString()], worker.Service.Reported);
    }
}
