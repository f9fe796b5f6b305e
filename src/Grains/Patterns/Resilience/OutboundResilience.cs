using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Retry;
using Polly.Timeout;

namespace NoOrg.Grains.Patterns.Resilience;

/// <summary>
/// Builds each destination's pipelines once, in a Polly <see cref="ResiliencePipelineRegistry{TKey}"/>, and keeps
/// their breakers' states for <see cref="Breakers"/> and the <c>noorg.resilience.circuit_state</c> gauge.
/// </summary>
internal sealed class OutboundResilience : IOutboundResilience, IDisposable
{
    public const string MeterName = "NoOrg.Resilience";
    public const string HttpClientName = "noorg-outbound";

    private readonly ResiliencePipelineRegistry<string> registry;
    private readonly ConcurrentDictionary<(string Destination, string Kind), BreakerEntry> breakers = new();
    private readonly ResilienceSettings settings;
    private readonly IHttpMessageHandlerFactory handlers;
    private readonly TimeProvider clock;
    private readonly ILoggerFactory loggers;
    private readonly ILogger log;

    public OutboundResilience(NoOrgSettings settings, IHttpMessageHandlerFactory handlers, TimeProvider clock, ILoggerFactory loggers, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(meters);
        this.settings = settings.Resilience;
        this.handlers = handlers;
        this.clock = clock;
        this.loggers = loggers;
        log = loggers.CreateLogger<OutboundResilience>();
        registry = new ResiliencePipelineRegistry<string>(new ResiliencePipelineRegistryOptions<string> { InstanceNameFormatter = k => k });
        meters.Create(MeterName).CreateObservableGauge("noorg.resilience.circuit_state", ObserveStates, description:
            "Circuit breaker state per destination and kind: 0 closed, 1 open, 2 half-open, 3 isolated");
    }

    public ResiliencePipeline Pipeline(string destination) =>
        registry.GetOrAddPipeline(Check(destination), (builder, _) =>
        {
            var p = settings.For(destination);
            builder.TimeProvider = clock;
            builder.AddConcurrencyLimiter(p.MaxConcurrency, p.QueueLimit)
                .AddTimeout(new TimeoutStrategyOptions { Timeout = p.TotalTimeout });
            if (p.RetryAttempts > 0)
            {
                builder.AddRetry(new RetryStrategyOptions
                {
                    MaxRetryAttempts = p.RetryAttempts, Delay = p.RetryBaseDelay, BackoffType = DelayBackoffType.Exponential, UseJitter = true,
                    ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (BrokenCircuitException or ValidationException or OperationCanceledException)),
                });
            }

            builder.AddCircuitBreaker(Breaker(destination, "call", new CircuitBreakerStrategyOptions(), p))
                .AddTimeout(new TimeoutStrategyOptions { Timeout = p.AttemptTimeout })
                .ConfigureTelemetry(loggers);
        });

    public HttpClient CreateHttpClient(string destination) =>
        new(new ResilienceHandler(HttpPipeline(destination)) { InnerHandler = handlers.CreateHandler(HttpClientName) }, disposeHandler: true);

    public IReadOnlyList<BreakerSnapshot> Breakers() =>
        breakers.OrderBy(b => b.Key.Destination, StringComparer.Ordinal).ThenBy(b => b.Key.Kind, StringComparer.Ordinal)
            .Select(b => new BreakerSnapshot(b.Key.Destination, b.Key.Kind, b.Value.State, Interlocked.Read(ref b.Value.Opened), b.Value.LastChangedAt))
            .ToArray();

    public void Dispose() => registry.Dispose();

    /// <summary>The destination's pipeline for HTTP: 5xx, 408, 429 and transport errors count as failures.</summary>
    internal ResiliencePipeline<HttpResponseMessage> HttpPipeline(string destination) =>
        registry.GetOrAddPipeline<HttpResponseMessage>(Check(destination), (builder, _) =>
        {
            var p = settings.For(destination);
            builder.TimeProvider = clock;
            builder.AddConcurrencyLimiter(p.MaxConcurrency, p.QueueLimit)
                .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = p.TotalTimeout });
            if (p.RetryAttempts > 0)
            {
                builder.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = p.RetryAttempts, Delay = p.RetryBaseDelay, BackoffType = DelayBackoffType.Exponential, UseJitter = true,
                });
            }

            builder.AddCircuitBreaker(Breaker(destination, "http", new HttpCircuitBreakerStrategyOptions(), p))
                .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = p.AttemptTimeout })
                .ConfigureTelemetry(loggers);
        });

    private TOptions Breaker<TOptions, TResult>(string destination, string kind, TOptions options, ResilienceProfile p)
        where TOptions : CircuitBreakerStrategyOptions<TResult>
    {
        var breaker = breakers.GetOrAdd((destination, kind), _ => new BreakerEntry());
        options.FailureRatio = p.BreakerFailureRatio;
        options.MinimumThroughput = p.BreakerMinThroughput;
        options.SamplingDuration = p.BreakerSamplingDuration;
        options.BreakDuration = p.BreakerBreakDuration;
        options.StateProvider = breaker.Provider;
        options.OnOpened = _ =>
        {
            Interlocked.Increment(ref breaker.Opened);
            breaker.LastChangedAt = clock.GetUtcNow();
            ResilienceLog.CircuitOpened(log, destination, kind, p.BreakerBreakDuration.TotalSeconds);
            return default;
        };
        options.OnHalfOpened = _ =>
        {
            breaker.LastChangedAt = clock.GetUtcNow();
            return default;
        };
        options.OnClosed = _ =>
        {
            breaker.LastChangedAt = clock.GetUtcNow();
            ResilienceLog.CircuitClosed(log, destination, kind);
            return default;
        };
        return options;
    }

    private CircuitBreakerStrategyOptions Breaker(string destination, string kind, CircuitBreakerStrategyOptions options, ResilienceProfile p) =>
        Breaker<CircuitBreakerStrategyOptions, object>(destination, kind, options, p);

    private HttpCircuitBreakerStrategyOptions Breaker(string destination, string kind, HttpCircuitBreakerStrategyOptions options, ResilienceProfile p) =>
        Breaker<HttpCircuitBreakerStrategyOptions, HttpResponseMessage>(destination, kind, options, p);

    private IEnumerable<Measurement<int>> ObserveStates() =>
        breakers.Select(b => new Measurement<int>((int)b.Value.State,
            new KeyValuePair<string, object?>("destination", b.Key.Destination), new KeyValuePair<string, object?>("kind", b.Key.Kind)));

    private static string Check(string destination) =>
        string.IsNullOrWhiteSpace(destination) || destination.Length > 200
            ? throw new ValidationException("A destination name must be 1 to 200 characters long.")
            : destination;

    private sealed class BreakerEntry
    {
        public long Opened;

        public CircuitBreakerStateProvider Provider { get; } = new();

        public DateTimeOffset? LastChangedAt { get; set; }

        public BreakerState State => Provider.CircuitState switch
        {
            CircuitState.Open => BreakerState.Open,
            CircuitState.HalfOpen => BreakerState.HalfOpen,
            CircuitState.Isolated => BreakerState.Isolated,
            _ => BreakerState.Closed,
        };
    }
}

internal static partial class ResilienceLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit to {Destination} ({Kind}) opened: calls are rejected for {BreakSeconds} s")]
    public static partial void CircuitOpened(ILogger logger, string destination, string kind, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit to {Destination} ({Kind}) closed")]
    public static partial void CircuitClosed(ILogger logger, string destination, string kind);
}
