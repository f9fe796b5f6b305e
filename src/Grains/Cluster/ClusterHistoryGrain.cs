namespace NoOrg.Grains.Cluster;

public sealed class ClusterHistoryGrain(
    [PersistentState("cluster-history", StorageNames.Default)] IPersistentState<ClusterHistoryState> state)
    : Grain, IClusterHistoryGrain
{
    internal const int RecentLimit = 20;

    public async Task RecordSiloStartAsync(SiloStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var current = state.State;
        state.State = current with
        {
            FirstStartedAt = current.FirstStartedAt is { } first && first <= start.StartedAt ? first : start.StartedAt,
            SiloStarts = current.SiloStarts + 1,
            RecentStarts = [.. current.RecentStarts.TakeLast(RecentLimit - 1), start],
        };
        await state.WriteStateAsync();
    }

    public Task<ClusterHistory> GetAsync() =>
        Task.FromResult(new ClusterHistory(state.State.FirstStartedAt, state.State.SiloStarts, state.State.RecentStarts));
}

[GenerateSerializer, Alias("noorg.cluster.history-state")]
public sealed record ClusterHistoryState
{
    [Id(0)] public DateTimeOffset? FirstStartedAt { get; init; }
    [Id(1)] public long SiloStarts { get; init; }
    [Id(2)] public IReadOnlyList<SiloStart> RecentStarts { get; init; } = [];
}
