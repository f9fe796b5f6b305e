using Microsoft.Extensions.Configuration;
using NoOrg.Configuration;

namespace NoOrg.Tests.Observability;

public sealed class ObservabilitySettingsTests
{
    private static NoOrgSettings Load(params (string Key, string Value)[] values) =>
        NoOrgSettings.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build());

    [Fact]
    public void Metrics_are_on_by_default_on_metrics_and_push_nowhere()
    {
        var o = Load().Observability;

        Assert.True(o.MetricsEnabled);
        Assert.Equal("/metrics", o.MetricsPath);
        Assert.Equal("", o.OtelExporterOtlpEndpoint);
        Assert.Equal("noorg", o.OtelServiceName);
        Assert.Equal(OtlpProtocol.Grpc, o.OtelExporterOtlpProtocol);
    }

    [Fact]
    public void An_otlp_collector_is_configured_by_url_and_protocol()
    {
        var o = Load(("NOORG_OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"), ("NOORG_OTEL_EXPORTER_OTLP_PROTOCOL", "httpprotobuf"),
            ("NOORG_METRICS_ENABLED", "false")).Observability;

        Assert.Equal("http://collector:4318", o.OtelExporterOtlpEndpoint);
        Assert.Equal(OtlpProtocol.HttpProtobuf, o.OtelExporterOtlpProtocol);
        Assert.False(o.MetricsEnabled);
    }

    [Theory]
    [InlineData("NOORG_METRICS_ENABLED", "sometimes", "boolean")]
    [InlineData("NOORG_METRICS_PATH", "metrics", "leading '/'")]
    [InlineData("NOORG_METRICS_CLUSTER_REFRESH_SECONDS", "0", "between 1 and 3600")]
    [InlineData("NOORG_OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", "absolute http")]
    [InlineData("NOORG_OTEL_EXPORTER_OTLP_PROTOCOL", "udp", "grpc, httpprotobuf")]
    [InlineData("NOORG_OTEL_METRIC_EXPORT_INTERVAL_MS", "10", "between 1000 and 3600000")]
    public void A_bad_observability_value_is_an_error_naming_the_key(string key, string value, string expected)
    {
        var errors = Assert.Throws<ConfigurationValidationException>(() => Load((key, value))).Errors;

        var error = Assert.Single(errors);
        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Problem, StringComparison.Ordinal);
    }
}
