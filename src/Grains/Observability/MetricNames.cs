using System.Collections.Frozen;

namespace NoOrg.Grains.Observability;

/// <summary>
/// Every NoOrg meter, and tag values computed once per enum member so that recording a measurement allocates nothing.
/// </summary>
public static class MetricNames
{
    /// <summary>The prefix every NoOrg meter name starts with; the silo host listens to <c>NoOrg.*</c>.</summary>
    public const string MeterPrefix = "NoOrg.";

    /// <summary>The meters that define <c>noorg.*</c> instruments; docs/observability.md lists each instrument.</summary>
    public static IReadOnlyList<string> Meters { get; } =
    [
        Tasks.TaskMetrics.MeterName, Dispatch.DispatchMetrics.MeterName, Agents.AgentMetrics.MeterName,
        Health.HealthCheckMetrics.MeterName, Sagas.SagaMetrics.MeterName, Patterns.Outbox.OutboxMetrics.MeterName,
        Patterns.Throttling.RateLimitMetrics.MeterName, Patterns.Caching.CacheMetrics.MeterName,
        Patterns.Resilience.OutboundResilience.MeterName, ClusterGauges.MeterName,
    ];

    /// <summary>snake_case of an enum member (<c>CompensationFailed</c> to <c>compensation_failed</c>), cached per member.</summary>
    public static string Of<TEnum>(TEnum value) where TEnum : struct, Enum => EnumNames<TEnum>.Names[value];

    internal static string Snake(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static class EnumNames<TEnum> where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> Names = Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, v => Snake(v.ToString()));
    }
}
