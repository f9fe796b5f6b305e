using NoOrg.Grains.Errors;
using Polly;
using Polly.Retry;

namespace NoOrg.Client;

/// <summary>
/// Retries a client call that failed because the cluster was briefly unable to take it: a rejected message,
/// a timeout, or a silo that died. Bounded exponential back-off with jitter. NoOrg's grain operations are
/// idempotent (they carry ids or idempotency keys), so a retried call does not repeat its effect.
/// </summary>
internal sealed class TransientErrorRetryFilter : IOutgoingGrainCallFilter
{
    private readonly ResiliencePipeline<Exception?> pipeline;

    public TransientErrorRetryFilter(int attempts)
    {
        var builder = new ResiliencePipelineBuilder<Exception?>();
        if (attempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<Exception?>
            {
                MaxRetryAttempts = attempts,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(2),
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(TransientErrors.IsTransient(args.Outcome.Exception ?? args.Outcome.Result)),
            });
        }

        pipeline = builder.Build();
    }

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        // The call's outcome travels in context.Response; returning its exception lets the pipeline judge it.
        await pipeline.ExecuteAsync(async _ =>
        {
            await context.Invoke();
            return context.Response?.Exception;
        });
    }
}
