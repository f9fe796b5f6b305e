using System.Text.Json;
using System.Text.RegularExpressions;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Alerts;

/// <summary>
/// deploy/prometheus/noorg-alerts.yml and deploy/grafana/noorg.json name only metrics NoOrg exports: the Prometheus
/// names of the instruments docs/observability.md lists (a table ObservabilityDocTests holds against the code).
/// </summary>
public sealed partial class AlertDeployFilesTests
{
    private const string RulesFile = "deploy/prometheus/noorg-alerts.yml";
    private const string DashboardFile = "deploy/grafana/noorg.json";

    [Fact]
    public void Every_prometheus_rule_names_only_exported_metrics()
    {
        var text = File.ReadAllText(RepositoryPaths.File(RulesFile));
        var rules = AlertLine().Matches(text).Count;
        var expressions = ExprLine().Matches(text).Count;

        Assert.True(rules >= 8, $"{RulesFile} has only {rules} alerts");
        Assert.Equal(rules, expressions);
        AssertExported(RulesFile, Code(text));
    }

    [Fact]
    public void Every_dashboard_query_names_only_exported_metrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.File(DashboardFile)));
        var queries = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToArray();

        Assert.True(queries.Length >= 10, $"{DashboardFile} has only {queries.Length} queries");
        AssertExported(DashboardFile, string.Join("\n", queries));
    }

    [Fact]
    public void The_exported_names_follow_the_prometheus_conversion()
    {
        var exported = Exported();
        Assert.Contains("noorg_tasks_created_total", exported);
        Assert.Contains("noorg_tasks_run_duration_seconds_bucket", exported);
        Assert.Contains("noorg_tasks_by_state", exported);
        Assert.Contains("noorg_data_bytes", exported);
        Assert.Contains("noorg_retention_last_run_age_seconds", exported);
        Assert.DoesNotContain("noorg_tasks_by_state_total", exported);
    }

    private static void AssertExported(string file, string text)
    {
        var exported = Exported();
        var used = MetricName().Matches(text).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(used);
        var unknown = used.Where(n => !exported.Contains(n)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(unknown.Length == 0, $"{file} names metrics NoOrg does not export: {string.Join(", ", unknown)}");
    }

    /// <summary>The YAML without its comments and annotation texts, where names may be mentioned in prose.</summary>
    private static string Code(string yaml) =>
        string.Join("\n", yaml.Split('\n').Where(l => !l.TrimStart().StartsWith('#') && !l.TrimStart().StartsWith("summary:", StringComparison.Ordinal)
            && !l.TrimStart().StartsWith("description:", StringComparison.Ordinal)));

    /// <summary>OpenTelemetry's Prometheus names: dots to underscores, a unit suffix (s, By), _total for counters, histogram series.</summary>
    private static HashSet<string> Exported()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(RepositoryPaths.File("docs/observability.md")))
        {
            if (InstrumentRow().Match(line) is not { Success: true } row)
            {
                continue;
            }

            var name = row.Groups["name"].Value.Replace('.', '_');
            var suffix = row.Groups["unit"].Value switch
            {
                "s" => "_seconds",
                "By" => "_bytes",
                _ => "",
            };
            name = name.EndsWith(suffix, StringComparison.Ordinal) ? name : name + suffix; // a name that already says its unit keeps it once
            var kind = row.Groups["kind"].Value.Trim();
            if (kind.StartsWith("counter", StringComparison.Ordinal))
            {
                names.Add(name + "_total");
            }
            else if (kind.StartsWith("histogram", StringComparison.Ordinal))
            {
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            }
            else
            {
                names.Add(name);
            }
        }

        Assert.True(names.Count >= 30, $"only {names.Count} exported names read from docs/observability.md");
        return names;
    }

    [GeneratedRegex(@"^\|\s*`(?<name>noorg\.[a-z0-9_.]+)`\s*\|(?<kind>[^|]+)\|\s*`?(?<unit>[^`|]*)`?\s*\|")]
    private static partial Regex InstrumentRow();

    [GeneratedRegex(@"\bnoorg_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^\s*- alert:", RegexOptions.Multiline)]
    private static partial Regex AlertLine();

    [GeneratedRegex(@"^\s*expr:", RegexOptions.Multiline)]
    private static partial Regex ExprLine();
}
