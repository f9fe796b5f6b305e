using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using NoOrg.Grains.Observability;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Observability;

/// <summary>docs/observability.md lists exactly the noorg.* instruments and spans the code defines, and every meter is known.</summary>
public sealed partial class ObservabilityDocTests
{
    [Fact]
    public void The_doc_lists_every_instrument_the_code_defines_and_no_other()
    {
        var defined = DefinedInSource();
        var documented = Documented();

        Assert.True(defined.Count >= 30, $"the source scan found only {defined.Count} instruments: {string.Join(", ", defined)}");
        Assert.Empty(defined.Except(documented)); // defined but not documented
        Assert.Empty(documented.Except(defined)); // documented but not defined
    }

    [Fact]
    public void The_source_scan_sees_every_instrument_the_static_meter_classes_create()
    {
        var published = new HashSet<string>(StringComparer.Ordinal);
        var meters = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name.StartsWith(MetricNames.MeterPrefix, StringComparison.Ordinal))
            {
                lock (published)
                {
                    published.Add(instrument.Name);
                    meters.Add(instrument.Meter.Name);
                }
            }
        };
        listener.Start();
        var metricClasses = typeof(MetricNames).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: true, IsSealed: true } && t.GetField("MeterName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .ToArray();
        foreach (var type in metricClasses)
        {
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        }

        Assert.True(metricClasses.Length >= 8, $"found only {metricClasses.Length} static meter classes");
        lock (published)
        {
            Assert.All(published, n => Assert.StartsWith("noorg.", n, StringComparison.Ordinal));
            Assert.Empty(published.Except(DefinedInSource()));
            Assert.Empty(meters.Except(MetricNames.Meters)); // a meter the host would export but the list does not name
        }
    }

    private static HashSet<string> DefinedInSource() =>
        [.. Directory.EnumerateFiles(RepositoryPaths.File("src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => InstrumentCreation().Matches(File.ReadAllText(f)))
            .Select(m => m.Groups["name"].Value)];

    [Fact]
    public void The_doc_lists_every_span_and_every_attribute_the_code_defines_and_no_other()
    {
        var documented = Documented("### Spans");
        var attributes = typeof(NoOrgTracing).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.GetRawConstantValue() is string value && value.StartsWith("noorg.", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!).Except(NoOrgTracing.Spans).ToArray();
        var section = string.Join("\n", Section("### Spans"));

        Assert.Equal(NoOrgTracing.Spans.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
        Assert.True(attributes.Length >= 10, $"found only {attributes.Length} attribute keys");
        Assert.All(attributes, a => Assert.Contains($"`{a}`", section, StringComparison.Ordinal));
    }

    private static HashSet<string> Documented(string heading = "## Instruments") =>
        [.. Section(heading)
            .Select(l => DocumentedRow().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups["name"].Value)];

    /// <summary>The lines under <paramref name="heading"/>, up to the next heading of its level or above.</summary>
    private static IEnumerable<string> Section(string heading)
    {
        var level = heading.IndexOf(' ', StringComparison.Ordinal);
        return File.ReadAllLines(RepositoryPaths.File("docs/observability.md"))
            .SkipWhile(l => l != heading).Skip(1)
            .TakeWhile(l => !(l.StartsWith('#') && l.IndexOf(' ', StringComparison.Ordinal) is > 0 and var own && own <= level));
    }

    [GeneratedRegex(@"Create(?:Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)(?:<[^>]+>)?\(\s*""(?<name>noorg\.[a-z0-9_.]+)""")]
    private static partial Regex InstrumentCreation();

    [GeneratedRegex(@"^\|\s*`(?<name>noorg\.[a-z0-9_.]+)`\s*\|")]
    private static partial Regex DocumentedRow();
}
