using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NoOrg.Client;
using NoOrg.Grains;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Sagas;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/sagas</c>: start (idempotent by id or key), read, log, abort, retry, list, statistics, definitions.</summary>
internal static class SagaEndpoints
{
    public static void MapSagaEndpoints(this RouteGroupBuilder v1)
    {
        var sagas = v1.MapGroup("/sagas").WithTags("Sagas");
        sagas.MapPost("/", StartAsync).WithName("StartSaga").WithSummary("Start a saga of a registered definition")
            .WithDescription("The same sagaId (or Idempotency-Key header) with the same definition and input returns the saga started first; other content is a 409.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .Example(ApiExamples.SagaStart, ApiExamples.SagaSnapshot);
        sagas.MapGet("/", ListAsync).WithName("ListSagas").WithSummary("List sagas with filters").Example(null, ApiExamples.SagaList);
        sagas.MapGet("/statistics", (INoOrgClient api) => api.Sagas.StatisticsAsync()).WithName("SagaStatistics").WithSummary("Counts by status and definition; durations")
            .Example(null, ApiExamples.SagaStatistics);
        sagas.MapGet("/definitions", (INoOrgClient api) => api.Sagas.DefinitionsAsync()).WithName("SagaDefinitions").WithSummary("The saga definitions registered in the silo")
            .Example(null, ApiExamples.SagaDefinitions);
        sagas.MapGet("/{id}", (string id, INoOrgClient api) => api.Sagas.GetAsync(id)).WithName("GetSaga").WithSummary("One saga and its steps")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.SagaSnapshot);
        sagas.MapGet("/{id}/log", LogAsync).WithName("SagaLog").WithSummary("The saga's durable log, oldest first")
            .ProducesProblem(StatusCodes.Status404NotFound).Example(null, ApiExamples.SagaLog);
        sagas.MapPost("/{id}/abort", (string id, [FromBody] ReasonRequest? body, INoOrgClient api) => api.Sagas.CancelAsync(id, (body ?? new()).Reason))
            .WithName("AbortSaga").WithSummary("Stop a running saga: its completed steps are compensated and it ends cancelled")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).Example(ApiExamples.Reason, ApiExamples.SagaSnapshot);
        sagas.MapPost("/{id}/retry", (string id, [FromBody] ReasonRequest? body, INoOrgClient api) => api.Sagas.RetryAsync(id, (body ?? new()).Reason))
            .WithName("RetrySaga").WithSummary("Resume the compensation of a saga that needs an operator (compensationFailed)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).Example(ApiExamples.Reason, ApiExamples.SagaSnapshot);
    }

    /// <summary>The saga id an idempotency key stands for: the same key always reaches the same saga grain.</summary>
    public static string SagaIdFor(string idempotencyKey) =>
        "s-k" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..31];

    private static async Task<Created<SagaSnapshot>> StartAsync(
        SagaStartRequest body, INoOrgClient api, [FromHeader(Name = ApiEndpoints.IdempotencyKeyHeader)] string? idempotencyKey)
    {
        var sagaId = body.SagaId;
        if (!string.IsNullOrEmpty(idempotencyKey))
        {
            if (sagaId is not null)
            {
                throw new ValidationException("Invalid saga", [$"sagaId: give a sagaId or an {ApiEndpoints.IdempotencyKeyHeader} header, not both"]);
            }

            sagaId = SagaIdFor(idempotencyKey);
        }

        var saga = await api.Sagas.StartAsync(body.Definition, body.InputJson, sagaId);
        return TypedResults.Created($"{ApiEndpoints.Prefix}/sagas/{Uri.EscapeDataString(saga.Id)}", saga);
    }

    private static Task<Page<SagaSummary>> ListAsync(INoOrgClient api, string? status, string? definition, int skip = 0, int take = 100)
    {
        var query = new ApiQuery();
        var filter = new SagaQuery(query.Enum<SagaStatus>("status", status), string.IsNullOrEmpty(definition) ? null : definition, skip, take);
        query.ThrowIfInvalid();
        return api.Sagas.ListAsync(filter);
    }

    private static async Task<Page<SagaLogEntry>> LogAsync(string id, INoOrgClient api, int skip = 0, int take = 100)
    {
        await api.Sagas.GetAsync(id); // 404 for a saga that was never started
        return await api.Sagas.LogAsync(id, skip, take);
    }
}
