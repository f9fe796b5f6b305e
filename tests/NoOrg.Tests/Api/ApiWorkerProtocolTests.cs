using System.Text.Json.Nodes;
using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Api;

/// <summary>The HTTP worker protocol over plain HTTP: long poll, start, heartbeat, reports named by attempt, hand back.</summary>
[Collection(ApiCollection.Name)]
public sealed class ApiWorkerProtocolTests(ApiSilo silo)
{
    [Fact]
    public async Task A_report_repeated_after_a_timeout_is_applied_once_and_a_report_of_an_attempt_that_is_over_changes_nothing()
    {
        var (agentId, capability) = await RegisterAsync();
        var worker = "w-" + Guid.NewGuid().ToString("N")[..12];
        var taskId = await CreateAsync(capability, maxAttempts: 3);

        var first = await NextAsync(agentId, worker, taskId);
        Assert.Equal("assigned", first["state"]!.GetValue<string>());
        var attempt0 = first["attempt"]!.GetValue<int>();

        var (s1, running1, _) = await Post($"/v1/tasks/{taskId}/start", new { agentId, attempt = attempt0 });
        Assert.True(s1 == 200, $"start answered {s1}: {running1}");
        var attempt1 = running1!["attempt"]!.GetValue<int>();
        Assert.Equal(attempt0 + 1, attempt1);

        // The start's answer was lost and it is sent again: the running task, not a 409, and no second start.
        var (s1b, again, _) = await Post($"/v1/tasks/{taskId}/start", new { agentId, attempt = attempt0 });
        Assert.True(s1b == 200, $"repeated start answered {s1b}: {again}");
        Assert.Equal(running1["version"]!.GetValue<long>(), again!["version"]!.GetValue<long>());

        var (h1, beat, _) = await Post($"/v1/tasks/{taskId}/heartbeat", new { agentId, attempt = attempt1 });
        Assert.True(h1 == 200, $"heartbeat answered {h1}: {beat}");

        // Attempt 1 fails; the retry comes back to the same agent (the only one able) and starts as attempt 2.
        var (f1, failed, _) = await Post($"/v1/tasks/{taskId}/fail", new { agentId, error = "flaky upstream", attempt = attempt1 });
        Assert.True(f1 == 200, $"fail answered {f1}: {failed}");
        var second = await NextAsync(agentId, worker, taskId);
        var (s2, running2, _) = await Post($"/v1/tasks/{taskId}/start", new { agentId, attempt = second["attempt"]!.GetValue<int>() });
        Assert.True(s2 == 200, $"second start answered {s2}: {running2}");
        var attempt2 = running2!["attempt"]!.GetValue<int>();
        Assert.Equal(attempt1 + 1, attempt2);

        // The failure of attempt 1 sent again after a client timeout reaches attempt 2: refused, nothing changed.
        var (f1b, refused, _) = await Post($"/v1/tasks/{taskId}/fail", new { agentId, error = "flaky upstream", attempt = attempt1 });
        Assert.Equal(409, f1b);
        Assert.Equal("invalid-transition", refused!["code"]!.GetValue<string>());
        Assert.Contains($"attempt {attempt1}", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var (h1b, stale, _) = await Post($"/v1/tasks/{taskId}/heartbeat", new { agentId, attempt = attempt1 });
        Assert.True(h1b == 409, $"a heartbeat of the finished attempt answered {h1b}: {stale}");
        var (c1, lateCompletion, _) = await Post($"/v1/tasks/{taskId}/complete", new { agentId, resultJson = "{\"late\":true}", attempt = attempt1 });
        Assert.True(c1 == 409, $"a completion of the finished attempt answered {c1}: {lateCompletion}");
        var unchanged = await silo.GetJsonAsync($"/v1/tasks/{taskId}");
        Assert.Equal("running", unchanged["state"]!.GetValue<string>());
        Assert.Equal(running2["version"]!.GetValue<long>(), unchanged["version"]!.GetValue<long>());

        // Attempt 2 completes; the same completion sent again answers the completed task and records nothing.
        var completion = new { agentId, resultJson = "{\"ok\":1}", processingTime = "00:00:00.5000000", attempt = attempt2 };
        var (c2, completed, _) = await Post($"/v1/tasks/{taskId}/complete", completion);
        Assert.True(c2 == 200, $"complete answered {c2}: {completed}");
        var (c2b, repeated, _) = await Post($"/v1/tasks/{taskId}/complete", completion);
        Assert.True(c2b == 200, $"the repeated completion answered {c2b}: {repeated}");
        Assert.Equal(completed!["version"]!.GetValue<long>(), repeated!["version"]!.GetValue<long>());
        var (c2c, contradicting, _) = await Post($"/v1/tasks/{taskId}/complete", completion with { resultJson = "{\"ok\":2}" });
        Assert.True(c2c == 409, $"another result for the same attempt answered {c2c}: {contradicting}");

        var history = await silo.GetJsonAsync($"/v1/tasks/{taskId}/history");
        var actions = history["items"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(1, actions.Count(a => a == "completed"));
        Assert.Equal(2, actions.Count(a => a == "started"));
        Assert.Equal("{\"ok\":1}", (await silo.GetJsonAsync($"/v1/tasks/{taskId}"))["resultJson"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_handed_back_task_returns_to_pending_and_a_repeated_hand_back_changes_nothing()
    {
        var (agentId, capability) = await RegisterAsync();
        var worker = "w-" + Guid.NewGuid().ToString("N")[..12];
        var taskId = await CreateAsync(capability, maxAttempts: 1);
        var assigned = await NextAsync(agentId, worker, taskId);
        var (s, running, _) = await Post($"/v1/tasks/{taskId}/start", new { agentId, attempt = assigned["attempt"]!.GetValue<int>() });
        Assert.True(s == 200, $"start answered {s}: {running}");

        // Draining first, so dispatch does not give the task straight back to this agent.
        var (d, drained, _) = await Post($"/v1/agents/{agentId}/drain", new { reason = "test" });
        Assert.True(d == 200, $"drain answered {d}: {drained}");
        var handBack = new { agentId, attempt = running!["attempt"]!.GetValue<int>(), reason = "shutting down" };
        var (h, back, _) = await Post($"/v1/tasks/{taskId}/handback", handBack);
        Assert.True(h == 200, $"hand back answered {h}: {back}");
        Assert.Equal("pending", back!["state"]!.GetValue<string>());
        var (h2, again, _) = await Post($"/v1/tasks/{taskId}/handback", handBack);
        Assert.True(h2 == 200, $"the repeated hand back answered {h2}: {again}");
        Assert.Equal(back["version"]!.GetValue<long>(), again!["version"]!.GetValue<long>());
        var history = await silo.GetJsonAsync($"/v1/tasks/{taskId}/history");
        var reasons = history["items"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "unassigned").Select(e => e!["reason"]!.GetValue<string>()).ToList();
        Assert.Equal([$"handed back by agent {agentId}: shutting down"], reasons);
    }

    [Fact]
    public async Task A_poll_without_a_worker_id_or_with_a_wrong_wait_is_a_400_and_a_second_worker_process_is_a_409()
    {
        var (agentId, _) = await RegisterAsync();
        var (noWorker, problem, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?wait=0");
        Assert.Equal(400, noWorker);
        Assert.Contains("worker: required", problem!["problems"]!.AsArray().Select(p => p!.GetValue<string>()).Single(), StringComparison.Ordinal);
        var (badWait, waitProblem, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker=w-1&wait=forever");
        Assert.Equal(400, badWait);
        Assert.StartsWith("wait: ", waitProblem!["problems"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var (tooLong, _, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker=w-1&wait=61");
        Assert.Equal(400, tooLong);

        var (empty, _, emptyResponse) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker=w-first&wait=1s");
        Assert.Equal(204, empty);
        Assert.True(emptyResponse.Headers.Contains("NoOrg-Heartbeat-Seconds"));
        var (other, conflict, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker=w-second&wait=0");
        Assert.Equal(409, other);
        Assert.Contains("w-first", conflict!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        var (unknown, _, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/nobody-{Guid.NewGuid():N}/tasks/next?worker=w-1&wait=0");
        Assert.Equal(404, unknown);

        // A clean stop takes the agent offline and lets another process in at once.
        var (stopped, agent, _) = await Post($"/v1/agents/{agentId}/disconnect?worker=w-first", null);
        Assert.True(stopped == 200, $"disconnect answered {stopped}: {agent}");
        Assert.Equal("offline", agent!["status"]!.GetValue<string>());
        var (next, _, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker=w-second&wait=0");
        Assert.Equal(204, next);
        Assert.Equal("available", (await silo.GetJsonAsync($"/v1/agents/{agentId}"))["status"]!.GetValue<string>());
    }

    private Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> Post(string path, object? body) =>
        silo.SendAsync(HttpMethod.Post, path, body is null ? null : ApiSilo.Json(body));

    private async Task<(string AgentId, string Capability)> RegisterAsync()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var agentId = "http-worker-" + run;
        var capability = "api.worker." + run;
        var (status, body, _) = await silo.SendAsync(HttpMethod.Put, $"/v1/agents/{agentId}", ApiSilo.Json(new
        {
            name = "HTTP worker", type = "test", description = "", capabilities = new[] { capability }, maxConcurrentTasks = 1, metadata = new { },
        }));
        Assert.True(status == 200, $"register answered {status}: {body}");
        return (agentId, capability);
    }

    private async Task<string> CreateAsync(string capability, int maxAttempts)
    {
        var (status, body, _) = await Post("/v1/tasks", new
        {
            name = "protocol", type = capability, inputJson = "{}", requiredCapabilities = new[] { capability }, maxAttempts, retryBackoff = "00:00:00.1000000",
        });
        Assert.True(status == 201, $"create answered {status}: {body}");
        return body!["id"]!.GetValue<string>();
    }

    /// <summary>Long-polls until the task comes; 204s (nothing yet) are polled again.</summary>
    private async Task<JsonNode> NextAsync(string agentId, string worker, string taskId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var (status, body, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}/tasks/next?worker={worker}&wait=5");
            Assert.True(status is 200 or 204, $"poll answered {status}: {body}");
            if (status == 200 && body!["id"]!.GetValue<string>() == taskId)
            {
                return body;
            }
        }

        throw new Xunit.Sdk.XunitException($"task {taskId} never came to agent {agentId}'s poll");
    }
}
