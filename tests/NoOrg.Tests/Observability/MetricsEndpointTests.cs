using System.Globalization;
using System.Text.RegularExpressions;
using NoOrg.Tests.Api;
using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Observability;

/// <summary>The real silo process answers GET /metrics in the Prometheus text format with the work a test did.</summary>
[Collection(ApiCollection.Name)]
public sealed partial class MetricsEndpointTests(ApiSilo silo)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Metrics_endpoint_serves_the_noorg_series_with_exact_counts_for_work_done_over_http()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var agentId = "metrics-agent-" + run;
        var type = "obs.http." + run;
        var agentType = "obs-agent-" + run;
        var (registered, agent, _) = await silo.SendAsync(HttpMethod.Put, $"/v1/agents/{agentId}", ApiSilo.Json(new
        {
            name = "metrics worker", type = agentType, description = "", capabilities = new[] { type }, maxConcurrentTasks = 5, metadata = new { },
        }));
        Assert.True(registered == 200, $"register answered {registered}: {agent}");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (status, created, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(new
            {
                name = "count me", type, priority = "critical", requiredCapabilities = new[] { type }, maxAttempts = 1,
            }));
            Assert.True(status == 201, $"create answered {status}: {created}");
            ids.Add(created!["id"]!.GetValue<string>());
        }

        await Eventually.ReturnsAsync(() => silo.GetJsonAsync($"/v1/tasks?assignedTo={agentId}&state=assigned"),
            page => page["total"]!.GetValue<long>() == 3, Wait, "dispatch to give the three tasks to the agent");
        foreach (var id in ids)
        {
            var (started, body, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{id}/start", ApiSilo.Json(new { agentId }));
            Assert.True(started == 200, $"start answered {started}: {body}");
        }

        for (var i = 0; i < 2; i++)
        {
            var (beat, answer, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/agents/{agentId}/heartbeat", null);
            Assert.True(beat == 200, $"heartbeat answered {beat}: {answer}");
        }

        await Finish(ids[0], "complete", new { agentId, resultJson = "1" });
        await Finish(ids[1], "complete", new { agentId, resultJson = "2" });
        await Finish(ids[2], "fail", new { agentId, error = "no luck" });

        var labels = $"priority=\"critical\",type=\"{type}\"";
        var text = await Eventually.ReturnsAsync(ScrapeAsync, t => Sample(t, "noorg_tasks_completed_total", labels) == 2, Wait, "the scrape to show two completions");
        Assert.Equal(3, Sample(text, "noorg_tasks_created_total", labels));
        Assert.Equal(3, Sample(text, "noorg_tasks_assignments_total", labels));
        Assert.Equal(1, Sample(text, "noorg_tasks_failed_total", labels));
        Assert.Equal(3, Sample(text, "noorg_tasks_wait_duration_seconds_count", labels));
        Assert.Contains("# TYPE noorg_tasks_run_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Equal(2, Sample(text, "noorg_agents_heartbeats_total", $"agent_type=\"{agentType}\""));
        Assert.True(double.IsNaN(Sample(text, "noorg_agents_heartbeats_late_total", $"agent_type=\"{agentType}\"")), "no heartbeat of this agent was late");
        Assert.Contains("target_info", text, StringComparison.Ordinal); // the resource: service name and instance

        // The embedded silo is the only one, so it reports the cluster-wide gauge: the same counts as the statistics.
        var stats = await silo.GetJsonAsync("/v1/tasks/statistics");
        var completed = stats["byState"]!["completed"]!.GetValue<long>();
        var scraped = await Eventually.ReturnsAsync(ScrapeAsync, t => Sample(t, "noorg_tasks_by_state", "state=\"completed\"") == completed, Wait,
            $"the gauge to show the {completed} completed tasks of the statistics");
        Assert.Contains("orleans", scraped, StringComparison.Ordinal); // Orleans' own meter is exported too
    }

    private async Task Finish(string id, string action, object body)
    {
        var (status, answer, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/tasks/{id}/{action}", ApiSilo.Json(body));
        Assert.True(status == 200, $"{action} answered {status}: {answer}");
    }

    private async Task<string> ScrapeAsync()
    {
        using var response = await silo.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"/metrics answered {(int)response.StatusCode}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one sample of <paramref name="name"/> whose labels include each of <paramref name="labels"/> (comma-separated, in any order); NaN when there is none.</summary>
    internal static double Sample(string text, string name, string labels)
    {
        var values = text.Split('\n')
            .Select(l => SampleLine().Match(l))
            .Where(m => m.Success && m.Groups["name"].Value == name && labels.Split(',').All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Select(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))
            .ToArray();
        return values.Length == 1 ? values[0] : double.NaN;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex SampleLine();
}
