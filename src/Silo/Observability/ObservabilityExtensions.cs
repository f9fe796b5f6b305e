using NoOrg.Configuration;
using NoOrg.Grains.Observability;
using NoOrg.Silo.Security;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace NoOrg.Silo.Observability;

/// <summary>
/// OpenTelemetry metrics of the silo host: NoOrg's meters, Orleans', ASP.NET Core's, HttpClient's and Npgsql's,
/// scraped on <c>NOORG_METRICS_PATH</c> in the Prometheus format and pushed by OTLP when an endpoint is set.
/// </summary>
public static class ObservabilityExtensions
{
    /// <summary>The meters the silo exports besides NoOrg's own (<c>NoOrg.*</c>).</summary>
    internal static readonly string[] PlatformMeters =
    [
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Authorization",
        "System.Net.Http", "System.Net.NameResolution",
        NpgsqlMeter,
        "Polly",
    ];

    private const string NpgsqlMeter = "Npgsql";

    public static WebApplicationBuilder AddNoOrgMetrics(this WebApplicationBuilder builder, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var o = settings.Observability;
        if (!o.MetricsEnabled)
        {
            return builder;
        }

        OpenTelemetry(builder, settings)
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(MetricNames.MeterPrefix + "*").AddMeter(PlatformMeters).AddPrometheusExporter();
                // Npgsql names a pool after its connection string (host, port, user, database) unless it was given a
                // name: keep only the connection state, so no series carries where the database is or who logs in.
                metrics.AddView(i => i.Meter.Name == NpgsqlMeter ? new MetricStreamConfiguration { TagKeys = ["db.client.connection.state"] } : null);
                if (o.OtelExporterOtlpEndpoint.Length > 0)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        Otlp(exporter, o);
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = o.OtelMetricExportIntervalMs;
                    });
                }
            });
        return builder;
    }

    /// <summary>
    /// Traces, pushed by OTLP when an endpoint is set: NoOrg's spans, Orleans' grain calls, the HTTP API's requests
    /// (not the scrapes and probes) and outgoing HTTP (webhooks, LLM calls). Without an endpoint nothing listens, so
    /// no span is made at all.
    /// </summary>
    public static WebApplicationBuilder AddNoOrgTracing(this WebApplicationBuilder builder, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        var o = settings.Observability;
        if (o.OtelExporterOtlpEndpoint.Length == 0)
        {
            return builder;
        }

        OpenTelemetry(builder, settings).WithTracing(tracing => tracing
            .AddSource(NoOrgTracing.SourceName, NoOrgTracing.OrleansSources)
            .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(o.OtelTracesSamplerRatio)))
            .AddAspNetCoreInstrumentation(a => a.Filter = http => !IsPlumbing(http.Request.Path, settings))
            .AddHttpClientInstrumentation()
            .AddOtlpExporter(exporter => Otlp(exporter, o)));
        return builder;
    }

    private static IOpenTelemetryBuilder OpenTelemetry(WebApplicationBuilder builder, NoOrgSettings settings) =>
        builder.Services.AddOpenTelemetry().ConfigureResource(r =>
            r.AddService(settings.Observability.OtelServiceName, serviceInstanceId: Environment.MachineName + ":" + settings.Cluster.SiloPort));

    private static void Otlp(OtlpExporterOptions exporter, ObservabilitySettings o)
    {
        exporter.Endpoint = new Uri(o.OtelExporterOtlpEndpoint);
        exporter.Protocol = o.OtelExporterOtlpProtocol == OtlpProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
    }

    /// <summary>Scrapes, probes and the dashboard's polling: traffic of the platform, not of the work.</summary>
    private static bool IsPlumbing(PathString path, NoOrgSettings settings) =>
        path.StartsWithSegments(settings.Observability.MetricsPath) || path.StartsWithSegments("/health")
        || (settings.Dashboard.Enabled && path.StartsWithSegments(settings.Dashboard.Path));

    /// <summary>The scrape endpoint, behind the API key like the dashboard (Prometheus sends it as a bearer token).</summary>
    public static WebApplication MapNoOrgMetrics(this WebApplication app, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Observability.MetricsEnabled)
        {
            app.MapPrometheusScrapingEndpoint(settings.Observability.MetricsPath).RequireAuthorization(ApiKeyAuthentication.Policy);
        }

        return app;
    }
}
