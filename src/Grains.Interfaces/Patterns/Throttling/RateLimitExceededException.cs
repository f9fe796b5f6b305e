using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>A rate limit refused the call; nothing was done. Retry after <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Alias("noorg.error.rate-limited")]
public sealed class RateLimitExceededException : NoOrgException
{
    public RateLimitExceededException() { }

    public RateLimitExceededException(string message) : base("rate-limited", message) { }

    public RateLimitExceededException(string message, Exception innerException) : base(message, innerException) { }

    public RateLimitExceededException(string policy, string key, TimeSpan retryAfter)
        : base("rate-limited", $"Rate limit '{policy}' refused key '{key}'; retry after {retryAfter.TotalMilliseconds:0} ms.")
    {
        Policy = policy;
        Key = key;
        RetryAfter = retryAfter;
    }

    [Id(0)] public string Policy { get; private set; } = "";

    [Id(1)] public string Key { get; private set; } = "";

    [Id(2)] public TimeSpan RetryAfter { get; private set; }
}
