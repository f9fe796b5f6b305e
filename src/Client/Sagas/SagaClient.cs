using NoOrg.Grains;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Sagas;
using NoOrg.Client.Watching;

namespace NoOrg.Client.Sagas;

/// <summary>Sagas of registered definitions, and compensation scopes, from an app.</summary>
public sealed class SagaClient
{
    private readonly IClusterClient client;

    internal SagaClient(IClusterClient client) => this.client = client;

    /// <summary>Starts a saga; with the same <paramref name="sagaId"/> and input, a repeated start returns it.</summary>
    public Task<SagaSnapshot> StartAsync(string definition, string inputJson, string? sagaId = null) => client.StartSagaAsync(definition, inputJson, sagaId);

    /// <summary>The saga; <see cref="NotFoundException"/> when there is none with this id.</summary>
    public async Task<SagaSnapshot> GetAsync(string sagaId) =>
        await Saga(sagaId).GetAsync() ?? throw NotFoundException.ForSaga(sagaId);

    public Task<Page<SagaLogEntry>> LogAsync(string sagaId, int skip = 0, int take = 100) => Saga(sagaId).GetLogAsync(skip, take);

    /// <summary>Cancels a running saga: its completed steps are compensated.</summary>
    public Task<SagaSnapshot> CancelAsync(string sagaId, string reason) => Saga(sagaId).CancelAsync(reason);

    /// <summary>Retries the compensations of a saga that needs an operator (CompensationFailed).</summary>
    public Task<SagaSnapshot> RetryAsync(string sagaId, string reason) => Saga(sagaId).RetryAsync(reason);

    public Task<Page<SagaSummary>> ListAsync(SagaQuery query) => Queries.ListAsync(query ?? new SagaQuery());

    public Task<SagaStatistics> StatisticsAsync() => Queries.StatisticsAsync();

    public Task<IReadOnlyList<SagaDefinitionInfo>> DefinitionsAsync() => Queries.DefinitionsAsync();

    /// <summary>
    /// Waits until the saga is terminal or needs an operator (CompensationFailed); <see cref="TimeoutException"/>
    /// naming its status when that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task<SagaSnapshot> WaitAsync(string sagaId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await client.WaitForSagaAsync(sagaId, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var saga = await Saga(sagaId).GetAsync();
            throw new TimeoutException($"saga '{sagaId}' did not finish within {timeout}: it is {saga?.Status.ToString() ?? "gone"}");
        }
    }

    /// <summary>Every log entry of one saga (or, with no id, of every saga) from now on; gaps as for <see cref="Tasks.TaskClient.WatchAsync"/>.</summary>
    public IAsyncEnumerable<SagaLogEntry> WatchAsync(string? sagaId = null, CancellationToken cancellationToken = default) =>
        Watches.Sagas(client, sagaId is null ? null : InputText.RequireId("sagaId", sagaId), cancellationToken);

    /// <summary>Opens a compensation scope: record how to undo each piece of work, then commit or abort.</summary>
    public Task<CompensationScope> BeginScopeAsync(string name, string? scopeId = null) => client.BeginCompensationScopeAsync(name, scopeId);

    private ISagaGrain Saga(string sagaId) => client.GetGrain<ISagaGrain>(InputText.RequireId("sagaId", sagaId));

    private ISagaQueryGrain Queries => client.GetGrain<ISagaQueryGrain>(0);
}
