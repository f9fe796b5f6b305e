using Orleans.Runtime;

namespace NoOrg.Client;

/// <summary>Keeps trying to reach a gateway at start-up, with growing pauses, until a deadline.</summary>
internal sealed class GatewayConnectionRetry(TimeSpan patience) : IClientConnectionRetryFilter
{
    private DateTimeOffset? deadline;
    private int attempt;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        deadline ??= DateTimeOffset.UtcNow + patience;
        if (DateTimeOffset.UtcNow >= deadline)
        {
            return false;
        }

        attempt++;
        var pause = TimeSpan.FromMilliseconds(Math.Min(2000, 100 * Math.Pow(2, attempt)));
        var left = deadline.Value - DateTimeOffset.UtcNow;
        await Task.Delay(pause < left ? pause : left, cancellationToken); // never past the deadline
        return true;
    }
}
