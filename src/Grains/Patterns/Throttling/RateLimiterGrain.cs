using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using NoOrg.Configuration;
using NoOrg.Grains.Errors;
using Orleans.Concurrency;
using Lease = System.Threading.RateLimiting.RateLimitLease;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>
/// The single limiter of one (policy, key) pair. Its window or bucket lives in memory: Orleans keeps one activation
/// per key, so every silo's callers share it. Reentrant so queued callers wait without blocking the others.
/// </summary>
[Reentrant]
public sealed partial class RateLimiterGrain(IGrainFactory grains, NoOrgSettings settings, TimeProvider clock, ILogger<RateLimiterGrain> log)
    : Grain, IRateLimiterGrain
{
    private readonly Dictionary<Guid, HeldLease> leases = [];
    private string policyName = "";
    private string key = "";
    private RateLimitPolicy? policy;
    private RateLimiter? limiter;
    private DateTimeOffset activatedAt;
    private long admitted;
    private long rejected;
    private long expiredLeases;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var id = this.GetPrimaryKeyString();
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        (policyName, key) = slash < 0 ? (id, "") : (id[..slash], id[(slash + 1)..]);
        activatedAt = clock.GetUtcNow();
        await RefreshAsync(cancellationToken);
        var refresh = TimeSpan.FromSeconds(settings.Throttling.PolicyRefreshSeconds);
        this.RegisterGrainTimer(RefreshAsync, refresh, refresh);
        this.RegisterGrainTimer(ExpireLeasesAsync, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (limiter is not null)
        {
            await limiter.DisposeAsync();
        }
    }

    public async Task<RateLimitDecision> AcquireAsync(int permits)
    {
        var (current, active) = (policy, limiter);
        if (current is null || active is null)
        {
            throw new NotFoundException($"No rate-limit policy named '{policyName}'.");
        }

        if (permits < 1 || permits > current.PermitLimit)
        {
            throw new ValidationException($"Permits must be between 1 and the limit of policy '{policyName}' ({current.PermitLimit}); got {permits}.");
        }

        // Keep the window alive while it matters: an idle collection would reset it early.
        DelayDeactivation(current.Kind == RateLimitKind.Concurrency ? current.LeaseTimeout : current.Window);
        Lease lease;
        if (current.QueueLimit == 0)
        {
            lease = active.AttemptAcquire(permits);
        }
        else
        {
            using var timeout = new CancellationTokenSource(current.QueueTimeout, clock);
            try
            {
                lease = await active.AcquireAsync(permits, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                rejected++;
                RateLimitMetrics.Decided(policyName, admitted: false);
                var now = clock.GetUtcNow();
                return new RateLimitDecision(false, now, RateLimitPolicyRules.EstimateRetryAfter(current, now, EarliestExpiry()), null, null);
            }
        }

        var at = clock.GetUtcNow();
        if (!lease.IsAcquired)
        {
            rejected++;
            RateLimitMetrics.Decided(policyName, admitted: false);
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var hint) ? hint : RateLimitPolicyRules.EstimateRetryAfter(current, at, EarliestExpiry());
            lease.Dispose();
            return new RateLimitDecision(false, at, retryAfter, null, null);
        }

        admitted++;
        RateLimitMetrics.Decided(policyName, admitted: true);
        if (current.Kind != RateLimitKind.Concurrency)
        {
            lease.Dispose(); // rate permits are spent, not returned
            return new RateLimitDecision(true, at, null, null, null);
        }

        var leaseId = Guid.NewGuid();
        var expiresAt = at + current.LeaseTimeout;
        leases[leaseId] = new HeldLease(lease, expiresAt);
        return new RateLimitDecision(true, at, null, leaseId, expiresAt);
    }

    public Task ReleaseAsync(Guid leaseId)
    {
        if (leases.Remove(leaseId, out var held))
        {
            held.Lease.Dispose();
        }

        return Task.CompletedTask;
    }

    public Task<RateLimiterStatus> GetStatusAsync()
    {
        var current = policy ?? throw new NotFoundException($"No rate-limit policy named '{policyName}'.");
        var statistics = limiter?.GetStatistics();
        return Task.FromResult(new RateLimiterStatus(policyName, key, current.Kind, statistics?.CurrentAvailablePermits ?? 0,
            statistics?.CurrentQueuedCount ?? 0, admitted, rejected, leases.Count, expiredLeases, activatedAt, RuntimeIdentity));
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var latest = await grains.GetGrain<IRateLimitPolicyGrain>(policyName).GetAsync();
        if (latest == policy)
        {
            return;
        }

        // A new limiter starts with a full allowance; callers queued on the old one are refused and may retry.
        var old = limiter;
        policy = latest;
        limiter = latest is null ? null : RateLimitPolicyRules.CreateLimiter(latest);
        if (old is not null)
        {
            LogPolicyChanged(log, policyName, key);
            await old.DisposeAsync();
        }
    }

    private Task ExpireLeasesAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var (id, held) in leases.Where(l => l.Value.ExpiresAt <= now).ToArray())
        {
            leases.Remove(id);
            held.Lease.Dispose();
            expiredLeases++;
            LogLeaseExpired(log, policyName, key, id);
        }

        return Task.CompletedTask;
    }

    private DateTimeOffset? EarliestExpiry() => leases.Count == 0 ? null : leases.Values.Min(l => l.ExpiresAt);

    private sealed record HeldLease(Lease Lease, DateTimeOffset ExpiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit policy {Policy} changed; limiter for key {Key} restarted with the new limits")]
    private static partial void LogPolicyChanged(ILogger logger, string policy, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Concurrency lease {LeaseId} of policy {Policy}, key {Key} was not released in time and was taken back")]
    private static partial void LogLeaseExpired(ILogger logger, string policy, string key, Guid leaseId);
}
