using NoOrg.Grains;
using NoOrg.Grains.Retention;
using NoOrg.Grains.Security;
using NoOrg.Silo.Security;
using NoOrg.Storage.Statistics;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/retention</c>: how much each kind of data holds and when it was last cleaned, and a clean-up on demand.</summary>
internal static class RetentionEndpoints
{
    public static void MapRetentionEndpoints(this RouteGroupBuilder v1)
    {
        var retention = v1.MapGroup("/retention").WithTags("Retention");
        retention.MapGet("/", StatisticsAsync).WithName("RetentionStatistics")
            .WithSummary("Rows, bytes and the oldest entry per kind of data, and when clean-up last ran (also: noorg db stats)")
            .Example(null, ApiExamples.DataStatistics);
        retention.MapPost("/run", (IGrainFactory grains) => grains.GetGrain<IRetentionGrain>(IRetentionGrain.Key).RunAsync())
            .WithName("RetentionRun").WithSummary("Runs every kind's clean-up now (bounded like a scheduled run); returns what each removed")
            .Example(null, ApiExamples.RetentionRun).Requires(AccessRole.Admin);
    }

    private static async Task<IReadOnlyList<DataKindStatistics>> StatisticsAsync(IndexDatabase database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await DataStatistics.ReadAsync(connection, database.Dialect, cancellationToken);
    }
}
