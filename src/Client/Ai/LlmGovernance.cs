using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using Polly;
using Polly.CircuitBreaker;

namespace NoOrg.Client.Ai;

/// <summary>
/// Every HTTP request to one provider goes through here (outermost first): a total timeout, retries of 408, 429,
/// 5xx, timeouts and transport errors (honouring Retry-After), the requests-per-minute limiter (each attempt takes a
/// permit and waits for one when none is left), the circuit breaker, and the timeout of one attempt. Timeout, retries
/// and rate come from NOORG_LLM_*; the breaker and the retry delay from NOORG_RESILIENCE_* for the destination
/// <see cref="Destination"/> (so <c>NOORG_RESILIENCE_DESTINATIONS=llm:openai:minThroughput=4</c> tunes it).
/// </summary>
public sealed class LlmGovernance : IDisposable
{
    /// <summary>Longest wait between two attempts, whatever Retry-After asks for.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly RateLimiter? limiter;
    private readonly CircuitBreakerStateProvider breaker = new();

    public LlmGovernance(LlmSettings llm, ResilienceSettings resilience, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(llm);
        ArgumentNullException.ThrowIfNull(resilience);
        ArgumentNullException.ThrowIfNull(loggers);
        Destination = $"llm:{LlmSettings.Name(llm.Provider)}";
        var profile = resilience.For(Destination);
        var attempt = TimeSpan.FromSeconds(llm.TimeoutSeconds);
        TotalTimeout = attempt * (llm.MaxRetries + 1) + MaxRetryDelay * llm.MaxRetries;

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = TotalTimeout });
        if (llm.MaxRetries > 0)
        {
            // The default predicate handles exactly 408, 429, 5xx, HttpRequestException and attempt timeouts.
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = llm.MaxRetries,
                Delay = profile.RetryBaseDelay,
                MaxDelay = MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
            });
        }

        if (llm.RequestsPerMinute > 0)
        {
            limiter = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
            {
                PermitLimit = llm.RequestsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                SegmentsPerWindow = 6,
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
            builder.AddRateLimiter(limiter);
        }

        builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = profile.BreakerFailureRatio,
                MinimumThroughput = profile.BreakerMinThroughput,
                SamplingDuration = profile.BreakerSamplingDuration,
                BreakDuration = profile.BreakerBreakDuration,
                StateProvider = breaker,
            })
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = attempt })
            .ConfigureTelemetry(loggers);
        Pipeline = builder.Build();
        BreakDuration = profile.BreakerBreakDuration;
    }

    /// <summary>The resilience destination name: <c>llm:</c> and the provider.</summary>
    public string Destination { get; }

    /// <summary>The longest one call may take, with its retries and their delays.</summary>
    public TimeSpan TotalTimeout { get; }

    public TimeSpan BreakDuration { get; }

    public CircuitState CircuitState => breaker.CircuitState;

    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; }

    /// <summary>An HttpClient whose every request runs through <see cref="Pipeline"/>.</summary>
    public HttpClient CreateHttpClient() =>
        new(new ResilienceHandler(Pipeline) { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan, // the pipeline times out
        };

    public void Dispose() => limiter?.Dispose();
}
