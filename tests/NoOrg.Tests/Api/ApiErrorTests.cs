using System.Text;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Silo.Api;

namespace NoOrg.Tests.Api;

/// <summary>Every status class of the error table, over HTTP where the silo can be made to answer it.</summary>
[Collection(ApiCollection.Name)]
public sealed class ApiErrorTests(ApiSilo silo)
{
    [Fact]
    public async Task Validation_errors_are_400_problem_documents_listing_every_problem()
    {
        var (status, problem, response) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json("{\"name\":\"\",\"type\":\"x\",\"maxAttempts\":0}"));
        Assert.Equal(400, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("validation", problem!["code"]!.GetValue<string>());
        var problems = problem["problems"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        Assert.Contains(problems, p => p.StartsWith("name:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("maxAttempts:", StringComparison.Ordinal));
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem["requestId"]!.GetValue<string>());

        var (queryStatus, queryProblem, _) = await silo.SendAsync(HttpMethod.Get, "/v1/tasks?state=done&priority=7");
        Assert.Equal(400, queryStatus);
        Assert.Equal(2, queryProblem!["problems"]!.AsArray().Count);
    }

    [Fact]
    public async Task Unknown_ids_and_routes_are_404_and_wrong_methods_405()
    {
        foreach (var path in new[] { "/v1/tasks/t-none", "/v1/tasks/t-none/history", "/v1/agents/nobody", "/v1/sagas/s-none", "/v1/no-such-thing" })
        {
            var (status, problem, _) = await silo.SendAsync(HttpMethod.Get, path);
            Assert.True(status == 404, $"{path} answered {status}: {problem}");
            Assert.Equal("not-found", problem!["code"]!.GetValue<string>());
        }

        var (deleted, removed, _) = await silo.SendAsync(HttpMethod.Delete, "/v1/webhooks/wh-none");
        Assert.True(deleted == 404, $"{deleted}: {removed}");
        var (wrong, methodProblem, _) = await silo.SendAsync(HttpMethod.Delete, "/v1/tasks");
        Assert.Equal(405, wrong);
        Assert.Equal("method-not-allowed", methodProblem!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bodies_that_are_not_json_are_415_and_oversize_bodies_413()
    {
        var (status, problem, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(415, status);
        Assert.Equal("unsupported-media-type", problem!["code"]!.GetValue<string>());

        var big = "{\"name\":\"big\",\"type\":\"x\",\"description\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";
        var (tooLarge, largeProblem, _) = await silo.SendAsync(HttpMethod.Post, "/v1/tasks", ApiSilo.Json(big));
        Assert.Equal(413, tooLarge);
        Assert.Equal("too-large", largeProblem!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refused_permit_is_429_with_retry_after()
    {
        var name = "api-429-" + Guid.NewGuid().ToString("N")[..8];
        var (set, policy, _) = await silo.SendAsync(HttpMethod.Put, $"/v1/limits/{name}",
            ApiSilo.Json(new { name, kind = "fixedWindow", permitLimit = 1, window = "00:10:00" }));
        Assert.True(set == 200, $"set answered {set}: {policy}");

        var (first, decision, _) = await silo.SendAsync(HttpMethod.Post, $"/v1/limits/{name}/k/acquire", null);
        Assert.True(first == 200, $"the first permit answered {first}: {decision}");
        Assert.True(decision!["admitted"]!.GetValue<bool>());
        var (second, problem, response) = await silo.SendAsync(HttpMethod.Post, $"/v1/limits/{name}/k/acquire", null);
        Assert.Equal(429, second);
        Assert.Equal("rate-limited", problem!["code"]!.GetValue<string>());
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 600);

        var (mismatch, mismatchProblem, _) = await silo.SendAsync(HttpMethod.Put, $"/v1/limits/{name}",
            ApiSilo.Json(new { name = "other", kind = "fixedWindow", permitLimit = 1, window = "00:10:00" }));
        Assert.True(mismatch == 400, $"{mismatch}: {mismatchProblem}");
        var (removed, _, _) = await silo.SendAsync(HttpMethod.Delete, $"/v1/limits/{name}");
        Assert.Equal(204, removed);
    }

    [Fact]
    public async Task A_request_id_is_echoed_when_sane_and_replaced_when_not()
    {
        var (_, _, echoed) = await silo.SendAsync(HttpMethod.Get, "/v1/tasks?take=1", headers: new Dictionary<string, string> { ["X-Request-Id"] = "abc-123" });
        Assert.Equal("abc-123", echoed.Headers.GetValues("X-Request-Id").Single());
        var (_, _, replaced) = await silo.SendAsync(HttpMethod.Get, "/v1/tasks?take=1", headers: new Dictionary<string, string> { ["X-Request-Id"] = new string('x', 500) });
        Assert.StartsWith("r-", replaced.Headers.GetValues("X-Request-Id").Single(), StringComparison.Ordinal);
    }

    public static TheoryData<Exception, int, string> Errors() => new()
    {
        { new ValidationException("bad", ["name: required"]), 400, "validation" },
        { new NotFoundException("gone"), 404, "not-found" },
        { new ConflictException("other content"), 409, "conflict" },
        { new InvalidTransitionException("finished"), 409, "invalid-transition" },
        { new RateLimitExceededException("p", "k", TimeSpan.FromSeconds(2)), 429, "rate-limited" },
        { new UnavailableException("database down"), 503, "unavailable" },
        { new TimeoutException("slow"), 503, "unavailable" },
        { new InternalErrorException("System.IO.IOException", "disk"), 500, "internal" },
        { new InvalidOperationException("bug"), 500, "internal" },
        { new Microsoft.AspNetCore.Http.BadHttpRequestException("too big", 413), 413, "too-large" },
        { new OrleansException("wrapped", new UnavailableException("inside")), 503, "unavailable" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void The_error_table_maps_each_code_to_one_status(Exception error, int status, string code)
    {
        var problem = ApiProblems.For(error);
        Assert.Equal(status, problem.Status);
        Assert.Equal(code, problem.Extensions["code"]);
        Assert.Equal(ApiProblems.TypePrefix + code, problem.Type);
    }
}
