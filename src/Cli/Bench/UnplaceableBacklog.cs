using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Bench;

/// <summary>
/// <c>--unplaceable N</c>: N pending tasks that need a capability no agent has, created before the measurements and
/// cancelled after them, so that a run shows what a backlog nobody can take costs the tasks that can be taken.
/// </summary>
internal sealed class UnplaceableBacklog(BenchRun run)
{
    private const int Concurrency = 32;
    private readonly List<string> ids = [];

    public async Task CreateAsync(int count, Action<string, double> progress, CancellationToken cancellationToken)
    {
        var capability = $"bench-nobody-{Guid.NewGuid():N}";
        var created = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            async (i, _) =>
            {
                var id = $"bench-backlog-{Guid.NewGuid():N}";
                await run.Caller.GetGrain<ITaskGrain>(id).CreateAsync(
                    new TaskSpec($"backlog {i}", "bench.backlog", RequiredCapabilities: [capability]), BenchRun.Actor);
                lock (ids)
                {
                    ids.Add(id);
                    progress("unplaceable backlog", ++created);
                }
            });
    }

    public Task CancelAsync(CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
            async (id, _) => await run.Caller.GetGrain<ITaskGrain>(id).CancelAsync("bench finished", BenchRun.Actor));
}
