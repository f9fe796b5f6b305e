using Microsoft.Extensions.AI;
using NoOrg.Configuration;

namespace NoOrg.Client.Ai;

/// <summary>What a call costs, from its token usage and the configured prices per 1000 tokens.</summary>
public sealed record LlmPricing(decimal InputPer1K, decimal OutputPer1K, string Currency)
{
    public static LlmPricing From(LlmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new((decimal)settings.InputPricePer1K, (decimal)settings.OutputPricePer1K, settings.Currency);
    }

    public decimal Cost(UsageDetails? usage) =>
        usage is null ? 0m : ((usage.InputTokenCount ?? 0) * InputPer1K + (usage.OutputTokenCount ?? 0) * OutputPer1K) / 1000m;
}
