using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using NoOrg.Tests.Api;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Observability;

/// <summary>Tracing in a real silo process: an HTTP request's trace reaches the task it creates, its placement and the placement's log line.</summary>
public sealed class TracingProcessTests
{
    [Fact]
    public async Task A_traced_http_request_gives_the_task_it_creates_its_trace_and_the_silo_log_shows_the_trace_id()
    {
        var data = Directory.CreateTempSubdirectory("noorg-trace-").FullName;
        try
        {
            // A collector nobody listens on: the silo traces, and its pushes fail quietly.
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_DASHBOARD_ENABLED"] = "false",
                ["NOORG_OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{FreePorts.Next()}",
                ["Logging__LogLevel__NoOrg.Grains.Dispatch"] = "Debug",
            });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            using var http = new HttpClient { BaseAddress = silo.Http, Timeout = TimeSpan.FromSeconds(60) };
            using var registered = await http.PutAsync(new Uri("/v1/agents/traced-agent", UriKind.Relative), ApiSilo.Json(new
            {
                name = "traced agent", type = "http", description = "", capabilities = new[] { "trace-http" }, maxConcurrentTasks = 1,
                metadata = new Dictionary<string, string>(),
            }));
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());

            var trace = ActivityTraceId.CreateRandom();
            using var post = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/tasks", UriKind.Relative))
            {
                Content = ApiSilo.Json(new { name = "traced", type = "trace-http", requiredCapabilities = new[] { "trace-http" } }),
            };
            post.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            using var created = await http.SendAsync(post);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var task = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
            Assert.StartsWith($"00-{trace}-", task["traceParent"]!.GetValue<string>(), StringComparison.Ordinal);

            // The placement joins the request's trace, and its log line shows that trace's id.
            var log = await Eventually.ReturnsAsync(() => Task.FromResult(silo.Output),
                o => o.Contains($"Task {task["id"]} placed on agent traced-agent", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the placement's log line");
            var end = log.IndexOf($"Task {task["id"]} placed on agent", StringComparison.Ordinal);
            var entry = log[log.LastIndexOf("dbug:", end, StringComparison.Ordinal)..Math.Min(log.Length, end + 80)];
            Assert.True(entry.Contains($"TraceId:{trace}", StringComparison.Ordinal), entry);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
