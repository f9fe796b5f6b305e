using Xunit.Abstractions;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Patterns.Throttling;

public abstract class ThrottlingTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static string NewPolicy() => "tests." + Guid.NewGuid().ToString("N")[..12];

    [SkippableFact]
    public async Task A_limit_holds_across_both_silos_and_the_client()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        // 20 permits per second (2 every 100 ms) with a burst of 5: any one-second window may admit at most 20 + 5.
        const int rate = 20, burst = 5, perPeriod = 2;
        var policy = await SetAsync(new RateLimitPolicy(NewPolicy(), RateLimitKind.TokenBucket, burst, TimeSpan.FromMilliseconds(100), TokensPerPeriod: perPeriod));
        var key = "tenant-" + Guid.NewGuid();
        var probes = await ProbesOnEverySiloAsync();
        Assert.Equal(2, probes.Count);

        var duration = TimeSpan.FromSeconds(3);
        var inSilos = probes.Select(p => p.HammerAsync(policy.Name, key, duration)).ToArray();
        var fromClient = Hammer.RunAsync(fixture.Client.Limiter(policy.Name, key), duration);
        var silos = await Task.WhenAll(inSilos);
        var client = await fromClient;

        Assert.All(silos, s => Assert.NotEmpty(s.Admitted));
        Assert.NotEmpty(client.Admitted);
        Assert.Equal(2, silos.Select(s => s.Silo).Distinct().Count());
        Assert.True(silos.Sum(s => s.Rejected) + client.Rejected > 0, "callers asked far more often than the limit allows, so some must be refused");

        var admitted = silos.SelectMany(s => s.Admitted).Concat(client.Admitted).Order().ToArray();
        var busiest = admitted.Select(start => admitted.Count(t => t >= start && t < start + TimeSpan.FromSeconds(1))).Max();
        output.WriteLine($"admitted {admitted.Length} (silos {string.Join(", ", silos.Select(s => s.Admitted.Count))}, client {client.Admitted.Count}), " +
            $"refused {silos.Sum(s => s.Rejected) + client.Rejected}, busiest one-second window {busiest}");
        // Admissions are timed where the caller sees the answer, not where the bucket decided: on a loaded machine that
        // shifts a permit by up to a refill period, so a window may hold one period's tokens more than the bucket gave.
        Assert.True(busiest <= rate + burst + perPeriod,
            $"{busiest} permits were admitted within one second; the limit is {rate}/s plus a burst of {burst} (plus {perPeriod} for timing at the callers)");
        Assert.True(admitted.Length >= rate, $"only {admitted.Length} permits in {duration.TotalSeconds} s: the limiter admitted less than one second's worth");
    }

    [SkippableFact]
    public async Task A_refusal_says_when_to_retry_and_keys_are_limited_separately()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var policy = await SetAsync(new RateLimitPolicy(NewPolicy(), RateLimitKind.FixedWindow, 2, TimeSpan.FromMinutes(1)));
        var key = Guid.NewGuid().ToString();
        await using (await fixture.Client.AcquireAsync(policy.Name, key))
        await using (await fixture.Client.AcquireAsync(policy.Name, key))
        {
        }

        var refused = await Assert.ThrowsAsync<RateLimitExceededException>(() => fixture.Client.AcquireAsync(policy.Name, key));
        Assert.Equal("rate-limited", refused.Code);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(key, refused.Key);

        await using var other = await fixture.Client.AcquireAsync(policy.Name, key + "-other");
        Assert.True(other.Decision.Admitted);
    }

    [SkippableFact]
    public async Task Sliding_window_limits_and_reports_status()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var policy = await SetAsync(new RateLimitPolicy(NewPolicy(), RateLimitKind.SlidingWindow, 3, TimeSpan.FromMinutes(1), SegmentsPerWindow: 6));
        var limiter = fixture.Client.Limiter(policy.Name, "k");
        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 5; i++)
        {
            decisions.Add(await limiter.AcquireAsync(1));
        }

        Assert.Equal([true, true, true, false, false], decisions.Select(d => d.Admitted));
        Assert.Equal(TimeSpan.FromSeconds(10), decisions[3].RetryAfter);
        var status = await limiter.GetStatusAsync();
        Assert.Equal((3, 2, 0), (status.Admitted, status.Rejected, status.AvailablePermits));
    }

    [SkippableFact]
    public async Task Concurrency_permits_are_released_queued_and_taken_back_when_forgotten()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var policy = await SetAsync(new RateLimitPolicy(NewPolicy(), RateLimitKind.Concurrency, 1, TimeSpan.Zero,
            QueueLimit: 1, QueueTimeout: TimeSpan.FromSeconds(20), LeaseTimeout: TimeSpan.FromSeconds(2)));
        var key = Guid.NewGuid().ToString();

        var first = await fixture.Client.AcquireAsync(policy.Name, key);
        Assert.NotNull(first.Decision.LeaseId);
        var queued = fixture.Client.AcquireAsync(policy.Name, key);
        await Eventually.ReturnsAsync(() => fixture.Client.Limiter(policy.Name, key).GetStatusAsync(), s => s.QueuedPermits == 1, TimeSpan.FromSeconds(10), "the second caller to queue");
        var overflow = await Assert.ThrowsAsync<RateLimitExceededException>(() => fixture.Client.AcquireAsync(policy.Name, key));
        Assert.True(overflow.RetryAfter > TimeSpan.Zero);

        await first.DisposeAsync();
        var second = await queued; // admitted once the first permit came back

        // The second caller never releases: the limiter takes the permit back after the lease timeout.
        Assert.NotNull(second.Decision.LeaseId);
        var status = await Eventually.ReturnsAsync(() => fixture.Client.Limiter(policy.Name, key).GetStatusAsync(),
            s => s.ExpiredLeases == 1 && s.HeldLeases == 0, TimeSpan.FromSeconds(20), "the forgotten lease to expire");
        Assert.Equal(1, status.AvailablePermits);
        await using var third = await fixture.Client.AcquireAsync(policy.Name, key);
        Assert.True(third.Decision.Admitted);
    }

    [SkippableFact]
    public async Task A_changed_policy_applies_to_running_limiters_and_a_removed_one_refuses()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var policy = await SetAsync(new RateLimitPolicy(NewPolicy(), RateLimitKind.FixedWindow, 1, TimeSpan.FromMinutes(10)));
        var limiter = fixture.Client.Limiter(policy.Name, "k");
        Assert.True((await limiter.AcquireAsync(1)).Admitted);
        Assert.False((await limiter.AcquireAsync(1)).Admitted);

        await SetAsync(policy with { PermitLimit = 100 });
        await Eventually.ReturnsAsync(() => limiter.AcquireAsync(1), d => d.Admitted, TimeSpan.FromSeconds(20), "the raised limit to apply");
        Assert.Contains(await fixture.Client.GetGrain<IRateLimitPolicyRegistryGrain>(0).ListAsync(), p => p.Name == policy.Name && p.PermitLimit == 100);

        Assert.True(await fixture.Client.GetGrain<IRateLimitPolicyGrain>(policy.Name).RemoveAsync());
        await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                await limiter.AcquireAsync(1);
                return false;
            }
            catch (NotFoundException)
            {
                return true;
            }
        }, refused => refused, TimeSpan.FromSeconds(20), "the removed policy to refuse");
        Assert.DoesNotContain(await fixture.Client.GetGrain<IRateLimitPolicyRegistryGrain>(0).ListAsync(), p => p.Name == policy.Name);
    }

    [SkippableFact]
    public async Task An_invalid_policy_is_refused_with_every_problem()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var name = NewPolicy();
        var error = await Assert.ThrowsAsync<ValidationException>(() => fixture.Client.GetGrain<IRateLimitPolicyGrain>(name)
            .SetAsync(new RateLimitPolicy(name, RateLimitKind.TokenBucket, 0, TimeSpan.Zero, QueueLimit: 5)));
        Assert.Contains("permit limit", error.Message, StringComparison.Ordinal);
        Assert.Contains("window", error.Message, StringComparison.Ordinal);
        Assert.Contains("queue timeout", error.Message, StringComparison.Ordinal);
        Assert.Null(await fixture.Client.GetGrain<IRateLimitPolicyGrain>(name).GetAsync());
    }

    [SkippableFact]
    public async Task The_rate_limit_attribute_refuses_calls_beyond_the_limit_per_key()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        await SetAsync(new RateLimitPolicy(ThrottleProbeGrain.FilterPolicy, RateLimitKind.FixedWindow, 3, TimeSpan.FromMinutes(5)));
        var probe = fixture.Client.GetGrain<IThrottleProbeGrain>(Guid.NewGuid().ToString());
        var tenant = Guid.NewGuid().ToString();
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(i, await probe.LimitedAsync(tenant));
        }

        var refused = await Assert.ThrowsAsync<RateLimitExceededException>(() => probe.LimitedAsync(tenant));
        Assert.Equal(ThrottleProbeGrain.FilterPolicy, refused.Policy);
        Assert.Equal(tenant, refused.Key);
        Assert.Equal(4, await probe.LimitedAsync(tenant + "-other")); // the refused call did not run
    }

    private async Task<RateLimitPolicy> SetAsync(RateLimitPolicy policy) =>
        await fixture.Client.GetGrain<IRateLimitPolicyGrain>(policy.Name).SetAsync(policy);

    private async Task<List<IThrottleProbeGrain>> ProbesOnEverySiloAsync()
    {
        var bySilo = new Dictionary<string, IThrottleProbeGrain>();
        // Right after the cluster starts, the client may know of one silo only: keep placing new probes for a while.
        for (var i = 0; i < 400 && bySilo.Count < 2; i++)
        {
            var probe = fixture.Client.GetGrain<IThrottleProbeGrain>(Guid.NewGuid().ToString());
            bySilo.TryAdd(await probe.WhereAsync(), probe);
            if (i % 20 == 19)
            {
                await Task.Delay(250);
            }
        }

        return [.. bySilo.Values];
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteThrottlingTests(SqliteClusterFixture fixture, ITestOutputHelper output) : ThrottlingTests(fixture, output);

[Collection(PostgresCluster.Name)]
public sealed class PostgresThrottlingTests(PostgresClusterFixture fixture, ITestOutputHelper output) : ThrottlingTests(fixture, output);
