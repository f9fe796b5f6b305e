using System.Text.Json.Nodes;
using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Api;

/// <summary>
/// Stored API keys and roles on a real silo, over HTTP only: every refusal is a problem document that says why, and
/// changes nothing. Keys are made, revoked and rotated with the CLI, as an operator would.
/// </summary>
public sealed class ApiAccessTests(SecuredApiSilo silo) : IClassFixture<SecuredApiSilo>
{
    private static readonly string Bootstrap = SecuredApiSilo.Bootstrap;

    [Fact]
    public async Task The_cli_presents_its_credential_on_grain_calls_and_is_refused_without_one_or_with_too_small_a_role()
    {
        var (_, reader) = await silo.CreateKeyAsync("cli-reader", "--role", "reader");
        var name = "by-reader-" + Guid.NewGuid().ToString("N");

        var none = await silo.CliAsAsync("", "keys", "list");
        var create = await silo.CliAsAsync(reader, "keys", "create", "--name", name, "--role", "reader");
        var tasks = await silo.CliAsAsync(reader, "tasks", "list");

        Assert.Equal(1, none.ExitCode);
        Assert.Contains("unauthorized: IApiKeysGrain.ListAsync needs a credential: set NOORG_SECURITY_CLIENT_CREDENTIAL", none.Error, StringComparison.Ordinal);
        Assert.Equal(1, create.ExitCode);
        Assert.Contains("forbidden: IApiKeysGrain.CreateAsync needs the admin role; this credential has: reader", create.Error, StringComparison.Ordinal);
        Assert.Equal(0, tasks.ExitCode);
        var listed = await silo.CliAsync("keys", "list");
        Assert.DoesNotContain(listed.Json.EnumerateArray(), k => k.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task A_reader_key_reads_and_is_refused_a_change_with_403_and_nothing_is_created()
    {
        var (id, reader) = await silo.CreateKeyAsync("dashboard-viewer", "--role", "reader");
        Assert.StartsWith("noorg_" + id + "_", reader, StringComparison.Ordinal);
        var type = "nobody.reader." + Guid.NewGuid().ToString("N");

        Assert.Equal(200, (await silo.SendAsync(reader, HttpMethod.Get, "/v1/tasks")).Status);
        var (status, problem, response) = await silo.SendAsync(reader, HttpMethod.Post, "/v1/tasks", new { name = "n", type });

        AssertProblem(403, "forbidden", "needs the operator role", status, problem, response);
        Assert.Equal(0, (await silo.SendAsync(Bootstrap, HttpMethod.Get, $"/v1/tasks?type={type}")).Body!["total"]!.GetValue<int>());
        var listed = await silo.CliAsync("keys", "list");
        var key = listed.Json.EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.Equal(System.Text.Json.JsonValueKind.String, key.GetProperty("lastUsedAt").ValueKind);
        Assert.DoesNotContain(reader[(id.Length + 7)..], listed.Json.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_credential_or_an_unknown_key_is_401_with_a_problem_document()
    {
        var (status, problem, response) = await silo.SendAsync(null, HttpMethod.Post, "/v1/tasks", new { name = "n", type = "t" });
        AssertProblem(401, "unauthorized", "no credential", status, problem, response);

        var (unknown, unknownProblem, unknownResponse) = await silo.SendAsync("noorg_k000000000000_" + new string('x', 43), HttpMethod.Get, "/v1/tasks", source: "127.0.0.21");
        AssertProblem(401, "unauthorized", "not known", unknown, unknownProblem, unknownResponse);
    }

    [Fact]
    public async Task An_operator_key_is_refused_admin_endpoints_and_no_webhook_is_added()
    {
        var (_, operatorKey) = await silo.CreateKeyAsync("ops", "--role", "operator");
        var before = (await silo.SendAsync(Bootstrap, HttpMethod.Get, "/v1/webhooks")).Body!.AsArray().Count;

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Post, "/v1/webhooks", new { url = "https://attacker.example/hook", events = new[] { "task.*" } }),
            (HttpMethod.Get, "/v1/webhooks", null),
            (HttpMethod.Put, "/v1/limits/llm", new { name = "llm", kind = "fixedWindow", permitLimit = 1, window = "00:00:01" }),
            (HttpMethod.Post, "/v1/retention/run", null),
        })
        {
            var (status, problem, response) = await silo.SendAsync(operatorKey, method, path, body);
            AssertProblem(403, "forbidden", "needs the admin role", status, problem, response);
        }

        Assert.Equal(before, (await silo.SendAsync(Bootstrap, HttpMethod.Get, "/v1/webhooks")).Body!.AsArray().Count);
        Assert.Equal(201, (await silo.SendAsync(operatorKey, HttpMethod.Post, "/v1/tasks", new { name = "n", type = "nobody.ops" })).Status);
    }

    [Fact]
    public async Task A_revoked_key_stops_at_once_and_its_change_is_not_made()
    {
        var (id, key) = await silo.CreateKeyAsync("ci", "--role", "operator");
        Assert.Equal(200, (await silo.SendAsync(key, HttpMethod.Get, "/v1/tasks")).Status);

        var (exitCode, revoked, error) = await silo.CliAsync("keys", "revoke", id);
        Assert.True(exitCode == 0, error);
        Assert.Equal(System.Text.Json.JsonValueKind.String, revoked.GetProperty("revokedAt").ValueKind);

        var type = "nobody.revoked." + Guid.NewGuid().ToString("N");
        var (status, problem, response) = await silo.SendAsync(key, HttpMethod.Post, "/v1/tasks", new { name = "n", type }, source: "127.0.0.22");
        AssertProblem(401, "unauthorized", "revoked", status, problem, response);
        Assert.Equal(0, (await silo.SendAsync(Bootstrap, HttpMethod.Get, $"/v1/tasks?type={type}")).Body!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_rotated_key_works_through_its_grace_then_stops_and_its_replacement_goes_on()
    {
        var (id, old) = await silo.CreateKeyAsync("deployer", "--role", "operator");
        var (exitCode, rotated, error) = await silo.CliAsync("keys", "rotate", id, "--grace", "00:00:04");
        Assert.True(exitCode == 0, error);
        var replacement = rotated.GetProperty("secret").GetString()!;

        Assert.Equal(200, (await silo.SendAsync(old, HttpMethod.Get, "/v1/tasks")).Status);
        Assert.Equal(200, (await silo.SendAsync(replacement, HttpMethod.Get, "/v1/tasks")).Status);

        var (status, problem, response) = await Eventually.ReturnsAsync(
            () => silo.SendAsync(old, HttpMethod.Get, "/v1/tasks", source: "127.0.0.23"), r => r.Status != 200, TimeSpan.FromSeconds(30), "the old key to stop after its grace");
        AssertProblem(401, "unauthorized", "rotated", status, problem, response);
        Assert.Equal(200, (await silo.SendAsync(replacement, HttpMethod.Get, "/v1/tasks")).Status);
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        var (_, key) = await silo.CreateKeyAsync("short-lived", "--role", "reader", "--expires-in", "00:00:03");

        var (status, problem, response) = await Eventually.ReturnsAsync(
            () => silo.SendAsync(key, HttpMethod.Get, "/v1/tasks", source: "127.0.0.24"), r => r.Status != 200, TimeSpan.FromSeconds(30), "the key to expire");

        AssertProblem(401, "unauthorized", "expired", status, problem, response);
    }

    [Fact]
    public async Task An_agent_key_acts_for_its_own_agent_and_is_refused_for_another_with_no_change()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        string own = "own-" + run, other = "other-" + run;
        foreach (var agent in new[] { own, other })
        {
            Assert.Equal(200, (await silo.SendAsync(Bootstrap, HttpMethod.Put, $"/v1/agents/{agent}", Registration(run))).Status);
        }

        var (_, agentKey) = await silo.CreateKeyAsync("worker", "--role", "agent", "--agent", own);
        var created = await silo.SendAsync(Bootstrap, HttpMethod.Post, "/v1/tasks", new { name = "idle", type = "nobody.agent." + run, requiredCapabilities = new[] { "held.by.nobody" } });
        var taskId = created.Body!["id"]!.GetValue<string>();

        Assert.Equal(200, (await silo.SendAsync(agentKey, HttpMethod.Post, $"/v1/agents/{own}/heartbeat")).Status);
        Assert.Equal(200, (await silo.SendAsync(agentKey, HttpMethod.Get, $"/v1/tasks?assignedTo={own}")).Status);
        Assert.Equal(204, (await silo.SendAsync(agentKey, HttpMethod.Get, $"/v1/agents/{own}/tasks/next?worker=w-own&wait=0")).Status);
        var (_, readerKey) = await silo.CreateKeyAsync("watcher", "--role", "reader");
        var (readerStatus, readerProblem, readerResponse) = await silo.SendAsync(readerKey, HttpMethod.Get, $"/v1/agents/{other}/tasks/next?worker=w-reader&wait=0");
        AssertProblem(403, "forbidden", "needs the operator role", readerStatus, readerProblem, readerResponse); // a poll takes deliveries: not a read

        var heartbeatBefore = (await silo.SendAsync(Bootstrap, HttpMethod.Get, $"/v1/agents/{other}")).Body!["lastHeartbeatAt"]?.ToJsonString();
        foreach (var (method, path, body, says) in new (HttpMethod, string, object?, string)[]
        {
            (HttpMethod.Post, $"/v1/agents/{other}/heartbeat", null, $"the request is for '{other}'"),
            (HttpMethod.Post, $"/v1/agents/{other}/drain", new { reason = "x" }, $"the request is for '{other}'"),
            (HttpMethod.Delete, $"/v1/agents/{other}", null, $"the request is for '{other}'"),
            (HttpMethod.Post, $"/v1/tasks/{taskId}/start", new { agentId = other }, $"the request is for '{other}'"),
            (HttpMethod.Post, $"/v1/tasks/{taskId}/heartbeat", new { agentId = other, attempt = 0 }, $"the request is for '{other}'"),
            (HttpMethod.Post, $"/v1/tasks/{taskId}/handback", new { agentId = other, attempt = 0 }, $"the request is for '{other}'"),
            (HttpMethod.Get, $"/v1/agents/{other}/tasks/next?worker=w-other&wait=0", null, $"the request is for '{other}'"),
            (HttpMethod.Post, $"/v1/agents/{other}/disconnect?worker=w-other", null, $"the request is for '{other}'"),
            (HttpMethod.Get, $"/v1/tasks?assignedTo={other}", null, $"the request is for '{other}'"),
            (HttpMethod.Get, $"/v1/tasks/{taskId}", null, "the request is for no agent"),
            (HttpMethod.Get, "/v1/tasks", null, "the request is for no agent"),
            (HttpMethod.Post, "/v1/tasks", new { name = "n", type = "t" }, "needs the operator role"),
        })
        {
            var (status, problem, response) = await silo.SendAsync(agentKey, method, path, body);
            AssertProblem(403, "forbidden", says, status, problem, response);
        }

        var otherNow = (await silo.SendAsync(Bootstrap, HttpMethod.Get, $"/v1/agents/{other}")).Body!;
        // Still registered, not drained, no heartbeat recorded (dispatch may have made it busy with another test's task).
        Assert.Contains(otherNow["status"]!.GetValue<string>(), new[] { "available", "busy" });
        Assert.Equal(heartbeatBefore, otherNow["lastHeartbeatAt"]?.ToJsonString());
        var task = (await silo.SendAsync(Bootstrap, HttpMethod.Get, $"/v1/tasks/{taskId}")).Body!;
        Assert.Equal("pending", task["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Repeated_failures_from_one_address_get_429_and_a_valid_caller_elsewhere_is_not_slowed()
    {
        const string attacker = "127.0.0.50";
        for (var i = 0; i < SecuredApiSilo.FailureLimit; i++)
        {
            Assert.Equal(401, (await silo.SendAsync("noorg_kguess_" + i, HttpMethod.Get, "/v1/tasks", source: attacker)).Status);
        }

        var (status, problem, response) = await silo.SendAsync("noorg_kguess_last", HttpMethod.Get, "/v1/tasks", source: attacker);
        AssertProblem(429, "rate-limited", "too many refused credentials", status, problem, response);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 carries Retry-After in seconds");
        // Once throttled, even a valid key from that address is refused: a guess that succeeds looks like one that fails.
        Assert.Equal(429, (await silo.SendAsync(Bootstrap, HttpMethod.Get, "/v1/tasks", source: attacker)).Status);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (valid, _, _) = await silo.SendAsync(Bootstrap, HttpMethod.Get, "/v1/tasks", source: "127.0.0.51");
        Assert.Equal(200, valid);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"a valid caller from another address took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_cli_refuses_an_agent_key_without_agents_and_an_unknown_id_with_typed_errors()
    {
        var (invalid, _, invalidError) = await silo.CliAsync("keys", "create", "--name", "w", "--role", "agent");
        Assert.Equal(2, invalid);
        Assert.Contains("agentIds: an agent key is bound to one or more agent ids", invalidError, StringComparison.Ordinal);

        var (unknown, _, unknownError) = await silo.CliAsync("keys", "revoke", "k000000000000");
        Assert.Equal(1, unknown);
        Assert.Contains("not-found", unknownError, StringComparison.Ordinal);

        var (badRole, _, _) = await silo.CliAsync("keys", "create", "--name", "w", "--role", "root");
        Assert.Equal(2, badRole);
    }

    private static object Registration(string run) =>
        new { name = "worker", type = "http", description = "", capabilities = new[] { "none." + run }, maxConcurrentTasks = 1, metadata = new { } };

    private static void AssertProblem(int expected, string code, string says, int status, JsonNode? problem, HttpResponseMessage response)
    {
        Assert.True(status == expected, $"expected {expected}, got {status}: {problem?.ToJsonString()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem!["code"]!.GetValue<string>());
        Assert.Equal("urn:noorg:error:" + code, problem["type"]!.GetValue<string>());
        Assert.True(problem["detail"]!.GetValue<string>().Contains(says, StringComparison.Ordinal), $"'{says}' not in: {problem.ToJsonString()}");
    }
}
