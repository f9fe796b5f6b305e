using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using NoOrg.Configuration;
using NoOrg.Silo.Api;

namespace NoOrg.Silo.Security;

/// <summary>
/// Refused credentials are counted per remote address (a fixed window of <c>NOORG_SECURITY_AUTH_FAILURE_WINDOW_SECONDS</c>);
/// past <c>NOORG_SECURITY_AUTH_FAILURE_LIMIT</c> every request from that address that carries a credential gets 429
/// with <c>Retry-After</c> until the window ends, a valid key included (so guessing learns nothing). Other addresses
/// have partitions of their own and are not slowed. Runs after authentication, before authorization; only when
/// authentication is required.
/// </summary>
internal sealed class AuthFailureThrottle : IMiddleware, IDisposable
{
    private readonly NoOrgSettings settings;
    private readonly IProblemDetailsService problems;
    private readonly PartitionedRateLimiter<string> failures;

    public AuthFailureThrottle(NoOrgSettings settings, IProblemDetailsService problems)
    {
        this.settings = settings;
        this.problems = problems;
        var security = settings.Security;
        failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = security.AuthFailureLimit,
            Window = TimeSpan.FromSeconds(security.AuthFailureWindowSeconds),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!settings.Security.RequireAuth || !ApiKeyAuthenticationHandler.PresentsCredential(context.Request))
        {
            await next(context);
            return;
        }

        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        using (var open = failures.AttemptAcquire(address, 0))
        {
            if (!open.IsAcquired)
            {
                await RefuseAsync(context, open);
                return;
            }
        }

        if ((await context.AuthenticateAsync()).Failure is not null)
        {
            using var counted = failures.AttemptAcquire(address, 1);
            if (!counted.IsAcquired)
            {
                await RefuseAsync(context, counted);
                return;
            }
        }

        await next(context);
    }

    private async Task RefuseAsync(HttpContext context, RateLimitLease lease)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(settings.Security.AuthFailureWindowSeconds);
        var problem = ApiProblems.Create("rate-limited",
            $"too many refused credentials from this address ({settings.Security.AuthFailureLimit} per {settings.Security.AuthFailureWindowSeconds} s); retry after {ApiProblems.RetryAfterSeconds(retryAfter)} s");
        problem.Extensions["retryAfterMs"] = (long)Math.Ceiling(retryAfter.TotalMilliseconds);
        context.Response.Headers.RetryAfter = ApiProblems.RetryAfterSeconds(retryAfter);
        context.Response.StatusCode = problem.Status!.Value;
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    public void Dispose() => failures.Dispose();
}
