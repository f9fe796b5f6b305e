using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace NoOrg.Silo.Api;

/// <summary>
/// The OpenAPI document of the /v1 endpoints: generated from the endpoints themselves, with the example of each
/// (<see cref="ApiExamples"/>) and a problem document for each error status. No servers list: the document is the
/// same whichever address served it, so the copy committed in docs/api/ can be compared with it.
/// </summary>
internal static class ApiDocument
{
    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = d => d.RelativePath?.StartsWith(ApiEndpoints.Prefix[1..] + "/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "NoOrg API",
                Version = ApiEndpoints.DocumentName,
                Description = "Tasks, agents, sagas, webhooks, outbox and rate limits of a NoOrg cluster. Errors are RFC 9457 problem documents with NoOrg's error code; see docs/api.md.",
            };
            document.Servers = [];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var json = context.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var example = context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiExample>().LastOrDefault();
            if (example?.Request is { } request && operation.RequestBody?.Content is { } requestContent)
            {
                foreach (var media in requestContent.Values.OfType<OpenApiMediaType>())
                {
                    media.Example = JsonSerializer.SerializeToNode(request, request.GetType(), json);
                }
            }

            foreach (var (status, response) in operation.Responses ?? [])
            {
                if (response.Content is not { } content)
                {
                    continue;
                }

                var value = int.TryParse(status, out var code) && code >= 400 ? Problem(code, context.Description.RelativePath ?? "")
                    : example?.Response is { } answer ? JsonSerializer.SerializeToNode(answer, answer.GetType(), json)
                    : null;
                foreach (var media in content.Values.OfType<OpenApiMediaType>())
                {
                    media.Example = value?.DeepClone();
                }
            }

            return Task.CompletedTask;
        });
    }

    private static JsonNode Problem(int status, string path)
    {
        var code = ApiProblems.CodeOf(status);
        return new JsonObject
        {
            ["type"] = ApiProblems.TypePrefix + code,
            ["title"] = code,
            ["status"] = status,
            ["detail"] = Detail(code),
            ["instance"] = "/" + path,
            ["code"] = code,
            ["requestId"] = "r-8d0c6f4b2a9e4f1d9c3b7a5e0f2d4c6b",
        };
    }

    private static string Detail(string code) => code switch
    {
        "validation" => "Invalid task: name: required (1 to 200 characters); maxAttempts: must be 1 to 100 (got 0).",
        "unauthorized" => "no API key, or an unknown one: send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'",
        "forbidden" => "POST /v1/limits/llm needs the admin role; this credential has: operator, reader",
        "not-found" => "Task t-0 does not exist (never created, or removed by retention).",
        "conflict" => "the same id or idempotency key was used with other content",
        "too-large" => "the body has 2000000 bytes; at most 1048576 are accepted (NOORG_HTTP_MAX_REQUEST_BYTES)",
        "unsupported-media-type" => "the body is 'text/plain'; send JSON with 'Content-Type: application/json'",
        "rate-limited" => "Rate limit 'llm-calls' refused key 'customer-17'; retry after 1500 ms.",
        "unavailable" => "the database did not answer; nothing was changed, retry",
        _ => "the server failed; the request id names this failure in the silo's log",
    };
}
