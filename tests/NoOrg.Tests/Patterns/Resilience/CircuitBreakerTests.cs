using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NoOrg.Configuration;
using NoOrg.Grains.Patterns.Resilience;
using NoOrg.Tests.Cluster;
using Polly.CircuitBreaker;
using Polly.RateLimiting;

namespace NoOrg.Tests.Patterns.Resilience;

/// <summary>The per-destination pipelines against a real HTTP listener, with a fake clock for the break duration.</summary>
public sealed class CircuitBreakerTests : IAsyncLifetime
{
    private const string Overrides =
        "flaky:retries=0,minThroughput=2,failureRatio=0.5,samplingSeconds=10,breakSeconds=30;" +
        "retrying:retries=3,baseDelayMs=1;" +
        "narrow:retries=0,maxConcurrency=1,queueLimit=0";

    private readonly FlakyServer server = new();
    private readonly FakeTimeProvider clock = new(DateTimeOffset.UtcNow);
    private ServiceProvider fake = null!;
    private ServiceProvider real = null!;

    public Task InitializeAsync()
    {
        fake = Build(clock);
        real = Build(TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await fake.DisposeAsync();
        await real.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task The_breaker_opens_rejects_half_opens_and_closes()
    {
        var resilience = fake.GetRequiredService<IOutboundResilience>();
        using var client = resilience.CreateHttpClient("flaky");
        server.Failing = true;

        Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync(server.Url)).StatusCode);
        Assert.Equal(BreakerState.Closed, State(resilience));
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync(server.Url)).StatusCode);
        Assert.Equal(BreakerState.Open, State(resilience));

        var hits = server.Hits;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(server.Url));
        Assert.Equal(hits, server.Hits); // rejected without a request

        server.Failing = false;
        server.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Advance(TimeSpan.FromSeconds(31));
        var trial = client.GetAsync(server.Url);
        await Eventually.ReturnsAsync(() => Task.FromResult(server.Hits), h => h == hits + 1, TimeSpan.FromSeconds(10), "the trial call to reach the server");
        Assert.Equal(BreakerState.HalfOpen, State(resilience));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(server.Url)); // one trial at a time

        server.Gate.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await trial).StatusCode);
        Assert.Equal(BreakerState.Closed, State(resilience));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(server.Url)).StatusCode);
        Assert.Equal(1, resilience.Breakers().Single(b => b.Destination == "flaky").Opened);
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_back_off()
    {
        using var client = real.GetRequiredService<IOutboundResilience>().CreateHttpClient("retrying");
        server.FailuresLeft = 2;

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(server.Url)).StatusCode);
        Assert.Equal(3, server.Hits);
    }

    [Fact]
    public async Task The_bulkhead_rejects_calls_beyond_its_concurrency()
    {
        using var client = real.GetRequiredService<IOutboundResilience>().CreateHttpClient("narrow");
        server.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = client.GetAsync(server.Url);
        await Eventually.ReturnsAsync(() => Task.FromResult(server.Hits), h => h == 1, TimeSpan.FromSeconds(10), "the first call to be in flight");

        await Assert.ThrowsAsync<RateLimiterRejectedException>(() => client.GetAsync(server.Url));

        server.Gate.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
    }

    [Fact]
    public async Task A_general_pipeline_breaks_on_exceptions_per_destination()
    {
        var resilience = fake.GetRequiredService<IOutboundResilience>();
        var pipeline = resilience.Pipeline("flaky");
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => pipeline.ExecuteAsync<int>(_ => throw new HttpRequestException("down")).AsTask());
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(_ => ValueTask.FromResult(1)).AsTask());
        Assert.Equal(BreakerState.Open, resilience.Breakers().Single(b => b is { Destination: "flaky", Kind: "call" }).State);
        Assert.Equal(42, await resilience.Pipeline("other").ExecuteAsync(_ => ValueTask.FromResult(42)));
    }

    private static BreakerState State(IOutboundResilience resilience) => resilience.Breakers().Single(b => b is { Destination: "flaky", Kind: "http" }).State;

    private static ServiceProvider Build(TimeProvider time)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["NOORG_RESILIENCE_DESTINATIONS"] = Overrides })
            .Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(NoOrgSettings.Load(configuration)).AddSingleton(time);
        NoOrg.Grains.Patterns.Resilience.ResilienceRegistration.AddNoOrgResilience(services);
        return services.BuildServiceProvider();
    }
}
