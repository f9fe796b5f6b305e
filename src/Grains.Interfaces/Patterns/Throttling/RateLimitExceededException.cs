using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>A rate limit refused the call; nothing was done. Retry after <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Alias("noorg.error.rate-limited")]
public sealed class RateLimitExceededException : NoOrgException
{
    public RateLimitExceededException() : base(ErrorCodes.RateLimited, message: null) { }

    public RateLimitExceededException(string message) : base(ErrorCodes.RateLimited, message) { }

    public RateLimitExceededException(string message, Exception innerException) : base(ErrorCodes.RateLimited, message, innerException) { }

    public RateLimitExceededException(string policy, string key, TimeSpan retryAfter)
        : base(ErrorCodes.RateLimited, $"Rate limit '{policy}' refused key '{key}'; retry after {retryAfter.TotalMilliseconds:0} ms.")
    {
        Policy = policy;
        Key = key;
        RetryAfter = retryAfter;
    }

    [Id(0)] public string Policy { get; private set; } = "";

    [Id(1)] public string Key { get; private set; } = "";

    [Id(2)] public TimeSpan RetryAfter { get; private set; }
}
