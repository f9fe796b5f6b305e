using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Api;

/// <summary>The demo saga of docs/sagas.md driven over HTTP only: start, follow, log, list.</summary>
[Collection(ApiCollection.Name)]
public sealed class ApiSagaTests(ApiSilo silo)
{
    [Fact]
    public async Task A_saga_started_over_http_that_fails_at_ship_is_compensated_and_its_log_shows_the_compensations()
    {
        var key = "saga-" + Guid.NewGuid().ToString("N");
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = key };
        var body = new { definition = "order", inputJson = "{\"failAt\":\"ship\"}" };
        var (status, started, response) = await silo.SendAsync(HttpMethod.Post, "/v1/sagas", ApiSilo.Json(body), headers);
        Assert.True(status == 201, $"start answered {status}: {started}");
        var sagaId = started!["id"]!.GetValue<string>();
        Assert.Equal($"/v1/sagas/{sagaId}", response.Headers.Location!.OriginalString);

        var (repeatStatus, repeated, _) = await silo.SendAsync(HttpMethod.Post, "/v1/sagas", ApiSilo.Json(body), headers);
        Assert.Equal(201, repeatStatus);
        Assert.Equal(sagaId, repeated!["id"]!.GetValue<string>());

        var saga = await Eventually.ReturnsAsync(() => silo.GetJsonAsync($"/v1/sagas/{sagaId}"),
            s => s["status"]!.GetValue<string>() == "compensated", TimeSpan.FromSeconds(60), "the saga to be compensated");
        Assert.Equal("ship", saga["failedStep"]!.GetValue<string>());

        var log = await silo.GetJsonAsync($"/v1/sagas/{sagaId}/log");
        var compensated = log["items"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "compensated")
            .Select(e => e!["stepId"]!.GetValue<string>()).ToArray();
        Assert.Equal(["charge-payment", "reserve-stock"], compensated);

        var listed = await Eventually.ReturnsAsync(() => silo.GetJsonAsync("/v1/sagas?definition=order&status=compensated&take=500"),
            p => p["items"]!.AsArray().Any(s => s!["id"]!.GetValue<string>() == sagaId), TimeSpan.FromSeconds(30), "the saga in the list");
        Assert.True(listed["total"]!.GetValue<long>() >= 1);

        var (abortStatus, abort, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/sagas/{sagaId}/abort", null);
        Assert.True(abortStatus == 409, $"aborting a finished saga answered {abortStatus}: {abort}");
    }

    [Fact]
    public async Task A_saga_without_failures_completes_and_the_definitions_list_names_it()
    {
        var definitions = await silo.GetJsonAsync("/v1/sagas/definitions");
        Assert.Contains(definitions.AsArray(), d => d!["name"]!.GetValue<string>() == "order");

        var (status, started, _) = await silo.SendAsync(HttpMethod.Post, "/v1/sagas", ApiSilo.Json(new { definition = "order", inputJson = "{}" }));
        Assert.True(status == 201, $"start answered {status}: {started}");
        var sagaId = started!["id"]!.GetValue<string>();
        var saga = await Eventually.ReturnsAsync(() => silo.GetJsonAsync($"/v1/sagas/{sagaId}"),
            s => s["status"]!.GetValue<string>() is "completed" or "compensated" or "cancelled", TimeSpan.FromSeconds(60), "the saga to finish");
        Assert.Equal("completed", saga["status"]!.GetValue<string>());

        var (missing, problem, _) = await silo.SendAsync(HttpMethod.Post, "/v1/sagas", ApiSilo.Json(new { definition = "no-such-definition" }));
        Assert.True(missing is 400 or 404, $"an unknown definition answered {missing}: {problem}");
    }
}
