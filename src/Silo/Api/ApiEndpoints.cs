using Microsoft.AspNetCore.Http.Json;
using NoOrg.Client;
using NoOrg.Configuration;
using NoOrg.Silo.Security;
using Scalar.AspNetCore;

namespace NoOrg.Silo.Api;

/// <summary>
/// The HTTP API: every endpoint under <see cref="Prefix"/>, in one route group built by <see cref="MapNoOrgApi"/>.
/// Authentication and authorization attach to that group and nowhere else, so no endpoint can be left out.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/v1";
    public const string DocumentName = "v1";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static IServiceCollection AddNoOrgApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        // A body that cannot be bound throws, so the exception handler answers it as a problem document.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Extensions.Remove("traceId");
            c.ProblemDetails.Extensions["requestId"] = c.HttpContext.TraceIdentifier;
            if (!c.ProblemDetails.Extensions.ContainsKey("code") && c.ProblemDetails.Status is { } status)
            {
                var code = ApiProblems.CodeOf(status);
                c.ProblemDetails.Type = ApiProblems.TypePrefix + code;
                c.ProblemDetails.Title = code;
                c.ProblemDetails.Extensions["code"] = code;
            }
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddNoOrgClientApi(o => o.Actor = "http");
        services.AddOpenApi(DocumentName, ApiDocument.Configure);
        return services;
    }

    /// <summary>
    /// The API's middleware (request id, limits, problem documents) and its endpoints, the OpenAPI document at
    /// <c>/openapi/v1.json</c> and its reference page at <c>/scalar</c>. Call before authentication, so a refused key
    /// also gets a request id and a problem document.
    /// </summary>
    public static WebApplication MapNoOrgApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(c => ApiRequestMiddleware.IsApi(c.Request), api =>
        {
            api.UseMiddleware<ApiRequestMiddleware>();
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });

        var v1 = app.MapGroup(Prefix)
            .RequireAuthorization(ApiAccess.Policy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapTaskEndpoints();
        v1.MapAgentEndpoints();
        v1.MapWorkerEndpoints();
        v1.MapSagaEndpoints();
        v1.MapWebhookEndpoints();
        v1.MapOutboxEndpoints();
        v1.MapRetentionEndpoints();
        v1.MapLimitEndpoints();
        v1.MapAlertEndpoints();

        // The document and its page say what the API is; they are as open as the API itself.
        app.MapOpenApi().RequireAuthorization(ApiAccess.Policy);
        app.MapScalarApiReference(o => o.WithTitle("NoOrg API")).RequireAuthorization(ApiAccess.Policy);
        return app;
    }

    /// <summary>Who a change made over HTTP is recorded as in histories: the authenticated name, or plain "http".</summary>
    internal static string Actor(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? "http:" + name : "http";
}
