using Microsoft.AspNetCore.Http.Features;
using NoOrg.Configuration;

namespace NoOrg.Silo.Api;

/// <summary>
/// What every /v1 request gets before its endpoint runs: an <c>X-Request-Id</c> (the caller's, when it is a sane
/// token, otherwise a new one) echoed on the response and used as the trace identifier; the body size limit; and
/// JSON only: a body of any other media type is a 415.
/// </summary>
internal sealed class ApiRequestMiddleware(RequestDelegate next, NoOrgSettings settings)
{
    public const string RequestIdHeader = "X-Request-Id";
    private const int MaxRequestIdLength = 128;

    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments(ApiEndpoints.Prefix, StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var requestId = context.Request.Headers[RequestIdHeader].ToString();
        context.TraceIdentifier = IsSane(requestId) ? requestId : "r-" + Guid.NewGuid().ToString("N");
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[RequestIdHeader] = context.TraceIdentifier;
            return Task.CompletedTask;
        });

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = settings.Http.MaxRequestBytes;
        }

        var refusal = context.Request.ContentLength > settings.Http.MaxRequestBytes
            ? ApiProblems.Create("too-large", $"the body has {context.Request.ContentLength} bytes; at most {settings.Http.MaxRequestBytes} are accepted (NOORG_HTTP_MAX_REQUEST_BYTES)")
            : HasBody(context.Request) && !IsJson(context.Request.ContentType)
                ? ApiProblems.Create("unsupported-media-type", $"the body is '{context.Request.ContentType}'; send JSON with 'Content-Type: application/json'")
                : null;
        if (refusal is not null)
        {
            context.Response.StatusCode = refusal.Status!.Value;
            await problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = refusal });
            return;
        }

        await next(context);
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static bool IsJson(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        && (!media.Charset.HasValue || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>Visible ASCII without spaces, at most 128 characters: safe to echo in a header and a log line.</summary>
    private static bool IsSane(string id) =>
        id.Length is > 0 and <= MaxRequestIdLength && id.All(c => c is > ' ' and < (char)127);
}
