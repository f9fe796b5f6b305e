namespace NoOrg.Grains.Tasks;

/// <summary>How long a failed attempt waits before the next one: exponential back-off from the spec's base.</summary>
internal static class RetryPolicy
{
    public static readonly TimeSpan DefaultBackoff = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    /// <summary><c>backoff * 2^(attempt-1)</c>, capped at one hour; <paramref name="attempt"/> is the attempt that failed (1-based).</summary>
    public static TimeSpan Delay(TimeSpan? backoff, int attempt)
    {
        var baseMs = (backoff ?? DefaultBackoff).TotalMilliseconds;
        var ms = baseMs * Math.Pow(2, Math.Max(0, attempt - 1));
        return ms >= MaxBackoff.TotalMilliseconds ? MaxBackoff : TimeSpan.FromMilliseconds(ms);
    }
}
