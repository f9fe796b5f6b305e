using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>What makes a policy valid, and the System.Threading.RateLimiting limiter that enforces it.</summary>
internal static partial class RateLimitPolicyRules
{
    public static readonly TimeSpan MaxQueueTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A concurrency lease a caller forgot is taken back after this when the policy does not say.</summary>
    public static readonly TimeSpan DefaultLeaseTimeout = TimeSpan.FromMinutes(5);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();

    public static RateLimitPolicy Validate(RateLimitPolicy policy, string expectedName)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var problems = new List<string>();
        if (!NamePattern().IsMatch(policy.Name ?? ""))
        {
            problems.Add("name must be 1-100 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        }
        else if (policy.Name != expectedName)
        {
            problems.Add($"name '{policy.Name}' does not match the policy grain '{expectedName}'");
        }

        if (policy.PermitLimit is < 1 or > 1_000_000)
        {
            problems.Add("permit limit must be between 1 and 1000000");
        }

        if (policy.Kind != RateLimitKind.Concurrency && (policy.Window < TimeSpan.FromMilliseconds(1) || policy.Window > TimeSpan.FromDays(1)))
        {
            problems.Add("window must be between 1 ms and 1 day");
        }

        if (policy.Kind == RateLimitKind.TokenBucket && (policy.TokensPerPeriod < 1 || policy.TokensPerPeriod > policy.PermitLimit))
        {
            problems.Add("tokens per period must be between 1 and the permit limit (the bucket size)");
        }

        if (policy.Kind == RateLimitKind.SlidingWindow
            && (policy.SegmentsPerWindow is < 1 or > 1000 || policy.Window / Math.Max(1, policy.SegmentsPerWindow) < TimeSpan.FromMilliseconds(1)))
        {
            problems.Add("segments per window must be between 1 and 1000, each at least 1 ms long");
        }

        if (policy.QueueLimit is < 0 or > 100_000)
        {
            problems.Add("queue limit must be between 0 and 100000");
        }

        if (policy.QueueTimeout < TimeSpan.Zero || policy.QueueTimeout > MaxQueueTimeout)
        {
            problems.Add($"queue timeout must be between 0 and {MaxQueueTimeout.TotalSeconds:0} s");
        }

        if (policy.QueueLimit > 0 && policy.QueueTimeout == TimeSpan.Zero)
        {
            problems.Add("a queue needs a queue timeout above 0");
        }

        if (policy.LeaseTimeout < TimeSpan.Zero || policy.LeaseTimeout > TimeSpan.FromDays(1))
        {
            problems.Add("lease timeout must be between 0 (the default of 5 minutes) and 1 day");
        }

        return problems.Count == 0
            ? policy with { LeaseTimeout = policy.Kind == RateLimitKind.Concurrency && policy.LeaseTimeout == TimeSpan.Zero ? DefaultLeaseTimeout : policy.LeaseTimeout }
            : throw new ValidationException($"Rate-limit policy '{policy.Name}' is invalid: {string.Join("; ", problems)}.");
    }

    public static RateLimiter CreateLimiter(RateLimitPolicy policy) => policy.Kind switch
    {
        RateLimitKind.TokenBucket => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = policy.PermitLimit,
            TokensPerPeriod = policy.TokensPerPeriod,
            ReplenishmentPeriod = policy.Window,
            QueueLimit = policy.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }),
        RateLimitKind.FixedWindow => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = policy.PermitLimit,
            Window = policy.Window,
            QueueLimit = policy.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }),
        RateLimitKind.SlidingWindow => new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = policy.PermitLimit,
            Window = policy.Window,
            SegmentsPerWindow = policy.SegmentsPerWindow,
            QueueLimit = policy.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }),
        _ => new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = policy.PermitLimit,
            QueueLimit = policy.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }),
    };

    /// <summary>When a refused caller may succeed, where the limiter's lease carries no RetryAfter metadata.</summary>
    public static TimeSpan EstimateRetryAfter(RateLimitPolicy policy, DateTimeOffset now, DateTimeOffset? earliestLeaseExpiry) => policy.Kind switch
    {
        RateLimitKind.SlidingWindow => policy.Window / policy.SegmentsPerWindow,
        RateLimitKind.Concurrency => earliestLeaseExpiry is { } e && e > now ? TimeSpan.FromTicks(Math.Min((e - now).Ticks, TimeSpan.TicksPerSecond)) : TimeSpan.FromMilliseconds(100),
        _ => policy.Window,
    };
}
