using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Patterns.Throttling;

namespace NoOrg.Silo.Api;

/// <summary>
/// Every API error is an RFC 9457 problem document carrying NoOrg's error code: <c>type</c> is
/// <c>urn:noorg:error:{code}</c>, <c>code</c> the code itself, <c>requestId</c> the request's id. One table maps codes
/// to statuses; exceptions that are not NoOrg's get a code of the same vocabulary first.
/// </summary>
internal static class ApiProblems
{
    public const string TypePrefix = "urn:noorg:error:";

    /// <summary>NoOrg error code to HTTP status. A code not listed is a server error.</summary>
    public static readonly IReadOnlyDictionary<string, int> StatusByCode = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [ErrorCodes.Validation] = StatusCodes.Status400BadRequest,
        [ErrorCodes.Unauthorized] = StatusCodes.Status401Unauthorized,
        [ErrorCodes.Forbidden] = StatusCodes.Status403Forbidden,
        [ErrorCodes.NotFound] = StatusCodes.Status404NotFound,
        [ErrorCodes.MethodNotAllowed] = StatusCodes.Status405MethodNotAllowed,
        [ErrorCodes.Conflict] = StatusCodes.Status409Conflict,
        [ErrorCodes.InvalidTransition] = StatusCodes.Status409Conflict,
        [ErrorCodes.TooLarge] = StatusCodes.Status413PayloadTooLarge,
        [ErrorCodes.UnsupportedMediaType] = StatusCodes.Status415UnsupportedMediaType,
        [ErrorCodes.RateLimited] = StatusCodes.Status429TooManyRequests,
        [ErrorCodes.Internal] = StatusCodes.Status500InternalServerError,
        [ErrorCodes.Unavailable] = StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>The code for a status the framework produced by itself (an unknown route, a refused key): the table read backwards.</summary>
    public static string CodeOf(int status) => StatusByCode.FirstOrDefault(p => p.Value == status).Key ?? ErrorCodes.Internal;

    public static int StatusOf(string code) => StatusByCode.TryGetValue(code, out var status) ? status : StatusCodes.Status500InternalServerError;

    /// <summary>What the caller is told about <paramref name="exception"/>: its code, status, message and details.</summary>
    public static ProblemDetails For(Exception exception)
    {
        var error = WrappedErrorFilter.Unwrap(exception);
        var (code, detail) = error switch
        {
            NoOrgException e => (e.Code, e.Message),
            BadHttpRequestException e => (CodeOf(e.StatusCode), BadRequestDetail(e)),
            JsonException e => (ErrorCodes.Validation, $"the body is not valid JSON for this endpoint: {e.Message}"),
            _ when TransientErrors.IsTransient(error) =>
                (ErrorCodes.Unavailable, $"the cluster did not answer in time ({error.GetType().Name}); retry"),
            _ => (ErrorCodes.Internal, "the server failed; the request id names this failure in the silo's log"),
        };
        var problem = Create(code, detail);
        switch (error)
        {
            case ValidationException { Problems.Count: > 0 } validation:
                problem.Extensions["problems"] = validation.Problems;
                break;
            case RateLimitExceededException limited:
                problem.Extensions["policy"] = limited.Policy;
                problem.Extensions["retryAfterMs"] = (long)Math.Ceiling(limited.RetryAfter.TotalMilliseconds);
                break;
        }

        return problem;
    }

    public static ProblemDetails Create(string code, string detail) => new()
    {
        Type = TypePrefix + code,
        Title = code,
        Status = StatusOf(code),
        Detail = detail,
        Extensions = { ["code"] = code },
    };

    /// <summary>The JSON reader's own words (line, position, what it expected) instead of "Failed to read parameter".</summary>
    private static string BadRequestDetail(BadHttpRequestException e)
    {
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException json)
            {
                return $"the body is not valid JSON for this endpoint: {json.Message}";
            }
        }

        return e.Message;
    }

    /// <summary>Seconds for a <c>Retry-After</c> header: at least 1, rounded up.</summary>
    public static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>Turns any exception thrown by an API endpoint into its problem document (and 429's <c>Retry-After</c>).</summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!ApiRequestMiddleware.IsApi(httpContext.Request))
        {
            return false;
        }

        var problem = ApiProblems.For(exception);
        if (problem.Status >= StatusCodes.Status500InternalServerError)
        {
            logger.LogError(exception, "API request {RequestId} {Method} {Path} failed", httpContext.TraceIdentifier, httpContext.Request.Method, httpContext.Request.Path);
        }

        if (WrappedErrorFilter.Unwrap(exception) is RateLimitExceededException limited)
        {
            httpContext.Response.Headers.RetryAfter = ApiProblems.RetryAfterSeconds(limited.RetryAfter);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }
}
