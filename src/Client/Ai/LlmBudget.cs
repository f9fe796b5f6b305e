using Microsoft.Extensions.AI;

namespace NoOrg.Client.Ai;

/// <summary>
/// What this process may still spend on its provider. A call is refused once the spent amount reaches the limit; a
/// call already sent is charged in full when it returns, so calls in flight at that moment may overshoot by their
/// own cost. Per process: each worker process has a budget of its own.
/// </summary>
public sealed class LlmBudget(decimal limit, LlmPricing pricing)
{
    private readonly Lock gate = new();
    private decimal spent;

    /// <summary>0 means no limit.</summary>
    public decimal Limit { get; } = limit;

    public LlmPricing Pricing { get; } = pricing;

    public decimal Spent
    {
        get
        {
            lock (gate)
            {
                return spent;
            }
        }
    }

    /// <summary>Throws <see cref="LlmException"/> (<see cref="LlmErrorCodes.BudgetExhausted"/>) when the budget is spent.</summary>
    public void EnsureAvailable()
    {
        var now = Spent;
        if (Limit > 0 && now >= Limit)
        {
            throw new LlmException(LlmErrorCodes.BudgetExhausted,
                $"the LLM budget of {Limit} {Pricing.Currency} is spent ({now} {Pricing.Currency} used); raise NOORG_LLM_BUDGET or restart the worker to call the model again");
        }
    }

    /// <summary>Adds the call's cost and returns it.</summary>
    public decimal Charge(UsageDetails? usage)
    {
        var cost = Pricing.Cost(usage);
        lock (gate)
        {
            spent += cost;
        }

        return cost;
    }
}

/// <summary>Refuses calls once the budget is spent and charges each answer's usage to it.</summary>
public sealed class BudgetedChatClient(IChatClient inner, LlmBudget budget) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        budget.EnsureAvailable();
        var response = await base.GetResponseAsync(messages, options, cancellationToken);
        budget.Charge(response.Usage);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        budget.EnsureAvailable();
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            foreach (var usage in update.Contents.OfType<UsageContent>())
            {
                budget.Charge(usage.Details);
            }

            yield return update;
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(LlmBudget) && serviceKey is null ? budget : base.GetService(serviceType, serviceKey);
}
