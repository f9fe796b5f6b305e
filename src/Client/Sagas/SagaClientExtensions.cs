using NoOrg.Grains;
using NoOrg.Grains.Sagas;
using NoOrg.Client.Watching;

namespace NoOrg.Client.Sagas;

/// <summary>Starting and following sagas, and compensation scopes, from a client.</summary>
public static class SagaClientExtensions
{
    public static string NewSagaId() => "s-" + Guid.NewGuid().ToString("N");

    /// <summary>Starts a saga of a registered definition; with the same <paramref name="sagaId"/> and input, a repeated start returns it.</summary>
    public static Task<SagaSnapshot> StartSagaAsync(this IGrainFactory grains, string definition, string inputJson, string? sagaId = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        return grains.GetGrain<ISagaGrain>(InputText.RequireId("sagaId", sagaId ?? NewSagaId())).StartAsync(definition, inputJson);
    }

    /// <summary>
    /// Waits until the saga is terminal or needs an operator (CompensationFailed): wakes on each change pushed to it,
    /// and reads the grain at least every two seconds.
    /// </summary>
    public static Task<SagaSnapshot> WaitForSagaAsync(this IClusterClient client, string sagaId, CancellationToken cancellationToken = default) =>
        WaitForSagaAsync(client, sagaId, progress: null, cancellationToken);

    /// <summary>Like <see cref="WaitForSagaAsync(IClusterClient, string, CancellationToken)"/>, telling <paramref name="progress"/> each snapshot it reads.</summary>
    public static async Task<SagaSnapshot> WaitForSagaAsync(
        this IClusterClient client, string sagaId, IProgress<SagaSnapshot>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var saga = client.GetGrain<ISagaGrain>(InputText.RequireId("sagaId", sagaId));
        await using var changed = await Watches.SagaAsync(client, sagaId);
        while (true)
        {
            var snapshot = await saga.GetAsync() ?? throw Grains.Errors.NotFoundException.ForSaga(sagaId);
            progress?.Report(snapshot);
            if (snapshot.IsTerminal || snapshot.Status == SagaStatus.CompensationFailed)
            {
                return snapshot;
            }

            await changed.WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
    }

    /// <summary>Opens a compensation scope: record how to undo each piece of work, then commit or abort.</summary>
    public static async Task<CompensationScope> BeginCompensationScopeAsync(this IGrainFactory grains, string name, string? scopeId = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var grain = grains.GetGrain<ISagaGrain>(InputText.RequireId("scopeId", scopeId ?? NewSagaId()));
        await grain.BeginScopeAsync(name);
        return new CompensationScope(grain);
    }
}

/// <summary>
/// A compensating transaction for one caller, backed by a saga coordinator: each recorded compensation is durable
/// when <see cref="RecordAsync"/> returns; <see cref="AbortAsync"/> runs them in reverse order through the same
/// compensation grains, retries and log as a saga, and survives the loss of a silo.
/// </summary>
public sealed class CompensationScope(ISagaGrain grain)
{
    public string Id => grain.GetPrimaryKeyString();

    /// <summary>Work <paramref name="stepId"/> is done; undo it with the registered compensation <paramref name="handler"/>.</summary>
    public Task<SagaSnapshot> RecordAsync(string stepId, string handler, string argumentsJson = "null") => grain.RecordAsync(stepId, handler, argumentsJson);

    public Task<SagaSnapshot> CommitAsync() => grain.CommitAsync();

    /// <summary>Starts the compensations and returns; follow with <see cref="SagaClientExtensions.WaitForSagaAsync"/>.</summary>
    public Task<SagaSnapshot> AbortAsync(string reason) => grain.AbortAsync(reason);
}
