using NoOrg.Grains.Security;
namespace NoOrg.Grains.Sagas;

/// <summary>
/// Runs one saga step or compensation, keyed <c>{sagaId}:{stepId}</c> (its idempotency key). The outcome is
/// stored; a repeated request returns it to the coordinator without repeating the effect.
/// </summary>
[Alias("noorg.sagas.action")]
public interface ISagaActionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Accepts an attempt and returns at once: the work runs in the background and its outcome is reported to the
    /// coordinator through <see cref="ISagaGrain.ActionFinishedAsync"/>. A request for an attempt already finished
    /// (or a later one than stored) reports the stored outcome again.
    /// </summary>
    [Alias("start"), Requires(AccessRole.Admin)] Task StartAsync(SagaActionRequest request);

    /// <summary>The attempt is no longer wanted (timed out or cancelled): its cancellation token is signalled.</summary>
    [Alias("abandon"), Requires(AccessRole.Admin)] Task AbandonAsync(int attempt);

    /// <summary>The last stored outcome; null while nothing finished.</summary>
    [Alias("outcome")] Task<SagaActionOutcome?> GetOutcomeAsync();
}

/// <summary>Runs a saga step.</summary>
[Alias("noorg.sagas.step-grain")]
public interface ISagaStepGrain : ISagaActionGrain
{
}

/// <summary>Runs the compensation of a saga step.</summary>
[Alias("noorg.sagas.compensation-grain")]
public interface ISagaCompensationGrain : ISagaActionGrain
{
}

/// <summary>Questions about many sagas at once, answered from the saga index (a stateless worker).</summary>
[Alias("noorg.sagas.queries")]
public interface ISagaQueryGrain : IGrainWithIntegerKey
{
    [Alias("list")] Task<Page<SagaSummary>> ListAsync(SagaQuery query);

    [Alias("statistics"), Requires(AccessRole.Reader)] Task<SagaStatistics> StatisticsAsync();

    /// <summary>The definitions registered in the silo that answers.</summary>
    [Alias("definitions"), Requires(AccessRole.Reader)] Task<IReadOnlyList<SagaDefinitionInfo>> DefinitionsAsync();
}
