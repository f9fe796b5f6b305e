using NoOrg.Grains.Patterns.Outbox;

namespace NoOrg.Silo.Api;

/// <summary><c>/v1/outbox</c>: what is waiting to be delivered, and which grains hold dead letters (read only).</summary>
internal static class OutboxEndpoints
{
    public const int MaxDeadHosts = 1000;

    public static void MapOutboxEndpoints(this RouteGroupBuilder v1)
    {
        var outbox = v1.MapGroup("/outbox").WithTags("Outbox");
        outbox.MapGet("/", (IGrainFactory grains) => Sweeper(grains).SummaryAsync()).WithName("OutboxStatus")
            .WithSummary("Pending messages and dead letters, by grain type").Example(null, ApiExamples.OutboxSummary);
        outbox.MapGet("/dead", DeadAsync).WithName("OutboxDeadLetters")
            .WithSummary("Grains holding dead letters (retry them with: noorg outbox retry STATE KEY)").Example(null, ApiExamples.OutboxDeadHosts);
    }

    private static Task<IReadOnlyList<OutboxDeadHost>> DeadAsync(IGrainFactory grains, int take = 100)
    {
        var query = new ApiQuery();
        query.Check(take is >= 1 and <= MaxDeadHosts, $"take: 1 to {MaxDeadHosts} (got {take})");
        query.ThrowIfInvalid();
        return Sweeper(grains).DeadHostsAsync(take);
    }

    // The typed client has no outbox area: operators reach it through the CLI, which calls the sweeper as this does.
    private static IOutboxSweeperGrain Sweeper(IGrainFactory grains) => grains.GetGrain<IOutboxSweeperGrain>(IOutboxSweeperGrain.Key);
}
