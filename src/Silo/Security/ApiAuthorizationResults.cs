using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using NoOrg.Grains.Errors;
using NoOrg.Silo.Api;

namespace NoOrg.Silo.Security;

/// <summary>
/// A refusal on the API is a problem document that says why: 401 <c>unauthorized</c> (no credential, or one that is
/// unknown, expired, revoked or rotated out) and 403 <c>forbidden</c> (a role the credential lacks, another agent).
/// Elsewhere (the dashboard, /metrics) the schemes' own challenge answers, so a browser still asks for a password.
/// </summary>
internal sealed class ApiAuthorizationResults(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler fallback = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !ApiRequestMiddleware.IsApi(context.Request) && !IsDocument(context.Request))
        {
            await fallback.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        Microsoft.AspNetCore.Mvc.ProblemDetails problem;
        if (authorizeResult.Forbidden)
        {
            var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToArray() ?? [];
            problem = ApiProblems.Create(ErrorCodes.Forbidden, reasons.Length > 0 ? string.Join("; ", reasons) : "this credential may not call this endpoint");
        }
        else
        {
            var failure = (await context.AuthenticateAsync()).Failure?.Message;
            problem = ApiProblems.Create(ErrorCodes.Unauthorized, failure is null
                ? "no credential: send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'"
                : $"{failure}; send a valid API key or token as 'Authorization: Bearer ...' (or a key as 'X-Api-Key: KEY')");
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        context.Response.StatusCode = problem.Status!.Value;
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private static bool IsDocument(HttpRequest request) =>
        request.Path.StartsWithSegments("/openapi", StringComparison.Ordinal) || request.Path.StartsWithSegments("/scalar", StringComparison.Ordinal);
}
