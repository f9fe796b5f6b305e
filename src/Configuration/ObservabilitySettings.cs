using System.ComponentModel.DataAnnotations;

namespace NoOrg.Configuration;

[SettingsArea("NOORG", "Observability (metrics and tracing)")]
public sealed class ObservabilitySettings
{
    [Setting("METRICS_ENABLED", "collect OpenTelemetry metrics (NoOrg, Orleans, ASP.NET Core, HttpClient, Npgsql) and serve them on /metrics in the Prometheus format")]
    public bool MetricsEnabled { get; set; } = true;

    [Setting("METRICS_PATH", "URL path of the Prometheus scrape endpoint")]
    public string MetricsPath { get; set; } = "/metrics";

    [Setting("METRICS_CLUSTER_REFRESH_SECONDS", "how often the one silo that reports cluster-wide gauges (tasks by state, agents by status) re-reads the database counters")]
    [Range(1, 3600)]
    public int MetricsClusterRefreshSeconds { get; set; } = 5;

    [Setting("METRICS_DATA_REFRESH_SECONDS", "how often that silo re-reads what each kind of data holds (noorg.data.* and noorg.retention.*: the figures of noorg db stats, which scan tables)")]
    [Range(1, 86_400)]
    public int MetricsDataRefreshSeconds { get; set; } = 300;

    [Setting("OTEL_SERVICE_NAME", "service.name of the metrics and traces resource")]
    public string OtelServiceName { get; set; } = "noorg";

    [Setting("OTEL_EXPORTER_OTLP_ENDPOINT", "push metrics and traces by OTLP to this collector URL (http://host:4317 for gRPC, http://host:4318 for HTTP); empty pushes nothing and records no trace")]
    public string OtelExporterOtlpEndpoint { get; set; } = "";

    [Setting("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc or httpprotobuf, the OTLP transport the endpoint speaks")]
    public OtlpProtocol OtelExporterOtlpProtocol { get; set; } = OtlpProtocol.Grpc;

    [Setting("OTEL_METRIC_EXPORT_INTERVAL_MS", "how often metrics are pushed by OTLP")]
    [Range(1000, 3_600_000)]
    public int OtelMetricExportIntervalMs { get; set; } = 15_000;

    [Setting("OTEL_TRACES_SAMPLER_RATIO", "share of new traces recorded and pushed by OTLP (0 to 1); a call that joins a trace follows its parent's decision")]
    [Range(0.0, 1.0)]
    public double OtelTracesSamplerRatio { get; set; } = 1.0;

    internal IEnumerable<SettingError> Validate()
    {
        if (!MetricsPath.StartsWith('/') || MetricsPath.Length < 2 || MetricsPath.Any(char.IsWhiteSpace))
        {
            yield return new SettingError("NOORG_METRICS_PATH", MetricsPath, "expected a path such as /metrics (leading '/', no spaces)");
        }

        if (string.IsNullOrWhiteSpace(OtelServiceName))
        {
            yield return new SettingError("NOORG_OTEL_SERVICE_NAME", OtelServiceName, "expected a service name such as noorg");
        }

        if (OtelExporterOtlpEndpoint.Length > 0 && !SettingsBinder.IsHttpUrl(OtelExporterOtlpEndpoint))
        {
            yield return new SettingError("NOORG_OTEL_EXPORTER_OTLP_ENDPOINT", OtelExporterOtlpEndpoint,
                "expected an absolute http:// or https:// URL such as http://localhost:4317, or nothing");
        }
    }
}

public enum OtlpProtocol { Grpc, HttpProtobuf }
