using System.Net.Http.Json;
using System.Text.Json.Nodes;
using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Api;

/// <summary>The whole task lifecycle over HTTP only: the test is both the app and a worker that is not .NET.</summary>
[Collection(ApiCollection.Name)]
public sealed class ApiTaskLifecycleTests(ApiSilo silo)
{
    [Fact]
    public async Task A_task_created_over_http_is_taken_started_and_completed_by_an_http_agent_and_its_history_shows_every_step()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var agentId = "http-agent-" + run;
        var capability = "api.e2e." + run;
        var (registered, agent, _) = await silo.SendAsync(HttpMethod.Put, $"/v1/agents/{agentId}", ApiSilo.Json(new
        {
            name = "HTTP worker", type = "curl", description = "a worker that speaks HTTP", capabilities = new[] { capability }, maxConcurrentTasks = 1, metadata = new { },
        }));
        Assert.True(registered == 200, $"register answered {registered}: {agent}");
        Assert.Equal("available", agent!["status"]!.GetValue<string>());

        var spec = new
        {
            name = "shout", type = capability, description = "", inputJson = "{\"greeting\":\"hello\"}", priority = "high",
            requiredCapabilities = new[] { capability }, maxAttempts = 2, metadata = new Dictionary<string, string> { ["origin"] = "api-test" },
        };
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = "e2e-" + run, ["X-Request-Id"] = "req-" + run };
        var (createdStatus, created, createdResponse) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(spec), headers);
        Assert.True(createdStatus == 201, $"create answered {createdStatus}: {created}");
        Assert.Equal("req-" + run, createdResponse.Headers.GetValues("X-Request-Id").Single());
        var taskId = created!["id"]!.GetValue<string>();
        Assert.Equal($"/v1/tasks/{taskId}", createdResponse.Headers.Location!.OriginalString);
        Assert.Equal("e2e-" + run, created["spec"]!["idempotencyKey"]!.GetValue<string>());

        // The worker's loop: find what dispatch gave it, start it, finish it.
        var assigned = await Eventually.ReturnsAsync(() => silo.GetJsonAsync($"/v1/tasks?assignedTo={agentId}&state=assigned"),
            page => page["items"]!.AsArray().Any(t => t!["id"]!.GetValue<string>() == taskId), TimeSpan.FromSeconds(30), "dispatch to give the task to the HTTP agent");
        Assert.Equal(1, assigned["total"]!.GetValue<long>());
        var (startStatus, started, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{taskId}/start", ApiSilo.Json(new { agentId }));
        Assert.True(startStatus == 200, $"start answered {startStatus}: {started}");
        Assert.Equal("running", started!["state"]!.GetValue<string>());
        var (completeStatus, completed, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{taskId}/complete",
            ApiSilo.Json(new { agentId, resultJson = "{\"greeting\":\"HELLO\"}", processingTime = "00:00:00.2500000" }));
        Assert.True(completeStatus == 200, $"complete answered {completeStatus}: {completed}");

        var task = await silo.GetJsonAsync($"/v1/tasks/{taskId}");
        Assert.Equal("completed", task["state"]!.GetValue<string>());
        Assert.Equal(agentId, task["assignedTo"]!.GetValue<string>());
        Assert.Equal("{\"greeting\":\"HELLO\"}", task["resultJson"]!.GetValue<string>());
        Assert.Equal("00:00:00.2500000", task["processingTime"]!.GetValue<string>());

        var history = await silo.GetJsonAsync($"/v1/tasks/{taskId}/history");
        var actions = history["items"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).Where(a => a != "unassignable").ToArray();
        Assert.Equal(["created", "assigned", "started", "completed"], actions);
        Assert.Equal("http", history["items"]![0]!["actor"]!.GetValue<string>());

        // The same key and content is the same task, even now it is finished; other content under the key is a conflict.
        var (againStatus, again, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(spec), headers);
        Assert.Equal(201, againStatus);
        Assert.Equal(taskId, again!["id"]!.GetValue<string>());
        Assert.Equal("completed", again["state"]!.GetValue<string>());
        var (conflictStatus, conflict, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(spec with { name = "whisper" }), headers);
        Assert.Equal(409, conflictStatus);
        Assert.Equal("conflict", conflict!["code"]!.GetValue<string>());

        var stats = await silo.GetJsonAsync("/v1/tasks/statistics");
        Assert.True(stats["byState"]!["completed"]!.GetValue<long>() >= 1, stats.ToJsonString());
        var estimate = await silo.GetJsonAsync($"/v1/tasks/estimate?type={capability}&agentId={agentId}");
        Assert.Equal(capability, estimate["type"]!.GetValue<string>());

        var (drainStatus, drained, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/agents/{agentId}/drain", null);
        Assert.True(drainStatus == 200, $"drain answered {drainStatus}: {drained}");
        Assert.Equal("draining", drained!["status"]!.GetValue<string>());
        var found = await silo.GetJsonAsync($"/v1/agents?capability={capability}");
        Assert.Equal(agentId, found["items"]![0]!["id"]!.GetValue<string>());
        var (removed, _, _) = await silo.SendAsync(HttpMethod.Delete, $"/v1/agents/{agentId}?reason=test+over");
        Assert.Equal(204, removed);
        var (gone, goneBody, _) = await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{agentId}");
        Assert.True(gone == 404, $"an unregistered agent answered {gone}: {goneBody}");
    }

    [Fact]
    public async Task A_task_created_over_http_is_completed_by_noorg_worker_and_followed_over_http()
    {
        var workerId = "api-worker-" + Guid.NewGuid().ToString("N")[..8];
        using var worker = Infrastructure.WorkerProcess.Start(silo.Process.Environment, "--id", workerId);
        try
        {
            await Eventually.ReturnsAsync(async () => (await silo.SendAsync(HttpMethod.Get, $"/v1/agents/{workerId}")).Status, s => s == 200,
                TimeSpan.FromSeconds(60), "noorg worker to register its agent");
            var (status, created, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(new
            {
                name = "shout", type = "uppercase", inputJson = "{\"greeting\":\"hello\"}", requiredCapabilities = new[] { "uppercase" },
            }));
            Assert.True(status == 201, $"create answered {status}: {created}");
            var taskId = created!["id"]!.GetValue<string>();

            var task = await Eventually.ReturnsAsync(() => silo.GetJsonAsync($"/v1/tasks/{taskId}"), t => t["isTerminal"]!.GetValue<bool>(),
                TimeSpan.FromSeconds(60), "the worker to finish the task");
            Assert.Equal("completed", task["state"]!.GetValue<string>());
            Assert.Contains("HELLO", task["resultJson"]!.GetValue<string>(), StringComparison.Ordinal);
            var history = await silo.GetJsonAsync($"/v1/tasks/{taskId}/history");
            var actions = history["items"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).Where(a => a != "unassignable").ToArray();
            Assert.Equal(["created", "assigned", "started", "completed"], actions);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Cancel_and_reassign_change_a_task_and_a_finished_task_refuses_them_with_409()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var response = await silo.PostJsonAsync("/v1/tasks", new { name = "idle", type = "nobody." + run });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var taskId = (await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        var (cancelStatus, cancelled, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{taskId}/cancel", ApiSilo.Json(new { reason = "not needed" }));
        Assert.True(cancelStatus == 200, $"cancel answered {cancelStatus}: {cancelled}");
        Assert.Equal("cancelled", cancelled!["state"]!.GetValue<string>());

        var (again, problem, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{taskId}/reassign", ApiSilo.Json(new { agentId = "someone", reason = "late" }));
        Assert.Equal(409, again);
        Assert.Equal("invalid-transition", problem!["code"]!.GetValue<string>());
        Assert.Equal("urn:noorg:error:invalid-transition", problem["type"]!.GetValue<string>());
    }
}
