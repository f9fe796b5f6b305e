namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>The System.Threading.RateLimiting limiter a policy is enforced with.</summary>
public enum RateLimitKind { TokenBucket, FixedWindow, SlidingWindow, Concurrency }

/// <summary>
/// A named limit, applied separately to every key it is used with. <see cref="PermitLimit"/> is the bucket size
/// (token bucket: also the burst), the permits per window (fixed and sliding window) or the permits held at once
/// (concurrency). <see cref="Window"/> is the window length, or the replenishment period of a token bucket, which
/// adds <see cref="TokensPerPeriod"/> each period. Waiting: at most <see cref="QueueLimit"/> permits queue, each
/// for at most <see cref="QueueTimeout"/>. A concurrency lease not released within <see cref="LeaseTimeout"/> is
/// taken back.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.throttling.policy")]
public sealed record RateLimitPolicy(
    string Name,
    RateLimitKind Kind,
    int PermitLimit,
    TimeSpan Window,
    int TokensPerPeriod = 1,
    int SegmentsPerWindow = 1,
    int QueueLimit = 0,
    TimeSpan QueueTimeout = default,
    TimeSpan LeaseTimeout = default);

/// <summary>
/// What the limiter decided. <see cref="AdmittedAt"/> is the limiter grain's clock at admission (or rejection).
/// A concurrency permit carries a <see cref="LeaseId"/> to release, held until <see cref="LeaseExpiresAt"/> at most.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.throttling.decision")]
public sealed record RateLimitDecision(
    bool Admitted,
    DateTimeOffset AdmittedAt,
    TimeSpan? RetryAfter,
    Guid? LeaseId,
    DateTimeOffset? LeaseExpiresAt);

/// <summary>One limiter's counters since its activation (they restart when the limiter grain moves).</summary>
[GenerateSerializer, Immutable, Alias("noorg.throttling.status")]
public sealed record RateLimiterStatus(
    string Policy,
    string Key,
    RateLimitKind Kind,
    long AvailablePermits,
    long QueuedPermits,
    long Admitted,
    long Rejected,
    int HeldLeases,
    long ExpiredLeases,
    DateTimeOffset ActivatedAt,
    string Silo);
