using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Observability;

/// <summary>A log line as a sink receives it, with the trace and span ids the logger factory put in its scopes.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string Message, string? TraceId, string? SpanId);

/// <summary>
/// A logger provider that keeps NoOrg's log lines and the scope values the logger factory adds (the ids of the span
/// the line was written in, when <c>ActivityTrackingOptions</c> asks for them).
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    /// <summary>What the test silos of <see cref="TracingClusterFixture"/> logged (they run in this process).</summary>
    public static CapturingLoggerProvider Silos { get; } = new();

    public ConcurrentQueue<CapturedLog> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string? traceId = null;
            string? spanId = null;
            owner.scopes.ForEachScope((scope, _) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        traceId = key == "TraceId" ? value?.ToString() : traceId;
                        spanId = key == "SpanId" ? value?.ToString() : spanId;
                    }
                }
            }, (object?)null);
            owner.Lines.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), traceId, spanId));
        }
    }
}

/// <summary>Adds <see cref="CapturingLoggerProvider.Silos"/> to the silos of clusters that ask for it, at debug level for NoOrg.</summary>
[TestSiloExtension]
public sealed class LogCaptureSiloConfigurator : ISiloConfigurator
{
    public const string Key = "NoOrgTests:CaptureLogs";

    public void Configure(ISiloBuilder siloBuilder)
    {
        if (siloBuilder.Configuration[Key] == "true")
        {
            siloBuilder.Services.AddLogging(logging => logging
                .AddProvider(CapturingLoggerProvider.Silos)
                .AddFilter<CapturingLoggerProvider>("NoOrg", LogLevel.Debug));
        }
    }
}

/// <summary>A two-silo cluster (SQLite) whose silos' NoOrg log lines are captured, and which sees new webhooks within a second.</summary>
public sealed class TracingClusterFixture : ClusterFixture
{
    public TracingClusterFixture()
        : base(NoOrg.Configuration.StorageProvider.Sqlite)
    {
        Settings[LogCaptureSiloConfigurator.Key] = "true";
        Settings["NOORG_OUTBOX_WEBHOOK_REFRESH_SECONDS"] = "1";
    }
}

[CollectionDefinition(Name)]
public sealed class TracingCluster : ICollectionFixture<TracingClusterFixture>
{
    public const string Name = "tracing cluster";
}
