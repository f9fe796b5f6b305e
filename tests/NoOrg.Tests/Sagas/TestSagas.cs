using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains;
using NoOrg.Grains.Sagas;
using NoOrg.Tests.Infrastructure;
using Orleans.TestingHost;

namespace NoOrg.Tests.Sagas;

/// <summary>
/// The saga definitions the tests run, registered in every test silo. Their steps do what the saga input asks
/// (fail, fail a few times, take long) and record their effects in a durable <see cref="ISagaEffectsGrain"/> keyed by
/// the input's scope, which applies an effect once per idempotency key and counts every call, like a real system that
/// honours idempotency keys.
/// </summary>
[TestSiloExtension]
public sealed class SagaTestSiloConfigurator : ISiloConfigurator
{
    public const string Chain = "test-chain";
    public const string Grouped = "test-parallel";
    public const string Hold = "test-hold";
    public const string Undo = "test-undo";
    public const string WithTask = "test-task-step";

    /// <summary>The capability only the task-step test's worker has: no other test's agent takes these tasks.</summary>
    public const string TaskCapability = "saga-task-step-test";

    // Long enough for a loaded test machine; the time-out tests wait a few of them.
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(5);

    // No test times a compensation out on purpose; a generous limit keeps a loaded machine from doing it by accident.
    public static readonly TimeSpan CompensationTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(50);

    public void Configure(ISiloBuilder siloBuilder)
    {
        var chain = SagaDefinition.Create(Chain);
        foreach (var id in new[] { "s1", "s2", "s3", "s4" })
        {
            Tested(chain.Step(id, DoAsync), StepTimeout);
        }

        var parallel = SagaDefinition.Create(Grouped);
        Tested(parallel.Step("a", DoAsync), StepTimeout);
        parallel.Parallel(p =>
        {
            foreach (var id in new[] { "b1", "b2", "b3" })
            {
                Tested(p.Step(id, DoAsync), StepTimeout);
            }
        });
        Tested(parallel.Step("c", DoAsync), StepTimeout);

        // Long time-outs: a step can run for seconds (while its silo is killed, or until the saga is cancelled).
        var hold = SagaDefinition.Create(Hold);
        foreach (var id in new[] { "s1", "s2", "s3", "s4" })
        {
            Tested(hold.Step(id, DoAsync), TimeSpan.FromSeconds(60));
        }

        siloBuilder.Services.AddNoOrgSaga(chain.Build());
        siloBuilder.Services.AddNoOrgSaga(parallel.Build());
        siloBuilder.Services.AddNoOrgSaga(hold.Build());

        // s1 in code, t2 as a NoOrg task run by an agent (and undone by one), s3 in code.
        var withTask = SagaDefinition.Create(WithTask);
        Tested(withTask.Step("s1", DoAsync), StepTimeout);
        withTask.TaskStep("t2", "echo", TaskCapability).Timeout(TimeSpan.FromSeconds(60)).Retry(1, Backoff)
            .CompensateWithTask("echo", TaskCapability).CompensationTimeout(TimeSpan.FromSeconds(60)).CompensationRetry(3, Backoff);
        Tested(withTask.Step("s3", DoAsync), StepTimeout);
        siloBuilder.Services.AddNoOrgSaga(withTask.Build());
        siloBuilder.Services.AddNoOrgCompensation(Undo, UndoAsync, new SagaPolicy(CompensationTimeout, 3, Backoff));
    }

    private static void Tested(SagaDefinitionBuilder builder, TimeSpan timeout) => builder
        .Timeout(timeout).Retry(3, Backoff)
        .Compensate(UndoAsync).CompensationTimeout(timeout > CompensationTimeout ? timeout : CompensationTimeout).CompensationRetry(3, Backoff);

    private static async Task<string?> DoAsync(SagaStepContext context)
    {
        var input = context.Input<TestSagaInput>() ?? throw new InvalidOperationException("input required");
        var label = "do:" + context.StepId;
        var effects = context.Grains.GetGrain<ISagaEffectsGrain>(input.Scope);
        await effects.CallAsync(label);
        if (input.DelayMs?.GetValueOrDefault(context.StepId) is > 0 and var delay)
        {
            await Task.Delay(delay, context.CancellationToken);
        }

        if (input.SlowOnce == context.StepId && context.Attempt == 1)
        {
            await Task.Delay(StepTimeout * 5, context.CancellationToken);
        }

        if (input.FailTimes?.GetValueOrDefault(context.StepId) >= context.Attempt)
        {
            throw new InvalidOperationException($"transient failure of {context.StepId} (attempt {context.Attempt})");
        }

        if (input.FailAt == context.StepId)
        {
            throw new InvalidOperationException($"{context.StepId} fails for good");
        }

        await effects.ApplyAsync(context.IdempotencyKey, label);
        return JsonSerializer.Serialize(new { step = context.StepId });
    }

    private static async Task<string?> UndoAsync(SagaStepContext context)
    {
        var input = context.Input<TestSagaInput>() ?? throw new InvalidOperationException("input required");
        var step = input.Label ?? context.StepId;
        var label = "undo:" + step;
        var effects = context.Grains.GetGrain<ISagaEffectsGrain>(input.Scope);
        await effects.CallAsync(label);
        if (input.CompensationFailTimes?.GetValueOrDefault(step) >= context.Attempt)
        {
            throw new InvalidOperationException($"compensation of {step} failed (attempt {context.Attempt})");
        }

        if (input.Label is null)
        {
            // Undoes the step's effect if it happened (like a refund of a charge that may not have gone through).
            await effects.UndoAsync(context.IdempotencyKey, context.IdempotencyKey + ":undo", label);
        }
        else
        {
            await effects.ApplyAsync(context.IdempotencyKey + ":undo", label);
        }

        return JsonSerializer.Serialize(new { undone = step });
    }
}

/// <summary>What a test saga's steps are asked to do; every member but the scope is optional.</summary>
public sealed record TestSagaInput(
    string Scope,
    string? FailAt = null,
    IReadOnlyDictionary<string, int>? FailTimes = null,
    IReadOnlyDictionary<string, int>? DelayMs = null,
    string? SlowOnce = null,
    IReadOnlyDictionary<string, int>? CompensationFailTimes = null,
    string? Label = null)
{
    public string ToJson() => JsonSerializer.Serialize(this, SagaKeys.Json);
}

/// <summary>Effects of test sagas, durable and cluster-wide: applied once per idempotency key, in order; every call counted.</summary>
[Alias("noorg.tests.saga-effects")]
public interface ISagaEffectsGrain : IGrainWithStringKey
{
    [Alias("call")] Task CallAsync(string label);

    [Alias("apply")] Task ApplyAsync(string idempotencyKey, string label);

    /// <summary>Applies <paramref name="label"/> once under <paramref name="idempotencyKey"/>, and only if the effect <paramref name="undoes"/> was applied.</summary>
    [Alias("undo")] Task UndoAsync(string undoes, string idempotencyKey, string label);

    [Alias("get")] Task<SagaEffects> GetAsync();
}

[GenerateSerializer, Alias("noorg.tests.saga-effects-state")]
public sealed record SagaEffects
{
    /// <summary>Labels of the effects applied, in the order they were applied.</summary>
    [Id(0)] public IReadOnlyList<string> Applied { get; init; } = [];

    [Id(1)] public IReadOnlyList<string> Keys { get; init; } = [];

    /// <summary>How often each label's action ran, applied or not.</summary>
    [Id(2)] public IReadOnlyDictionary<string, int> Calls { get; init; } = new Dictionary<string, int>();

    public int CallsOf(string label) => Calls.GetValueOrDefault(label);
}

public sealed class SagaEffectsGrain(
    [PersistentState("saga-test-effects", StorageNames.Default)] IPersistentState<SagaEffects> state) : Grain, ISagaEffectsGrain
{
    public Task CallAsync(string label) =>
        WriteAsync(state.State with { Calls = new Dictionary<string, int>(state.State.Calls) { [label] = state.State.CallsOf(label) + 1 } });

    public Task ApplyAsync(string idempotencyKey, string label) => state.State.Keys.Contains(idempotencyKey)
        ? Task.CompletedTask
        : WriteAsync(state.State with { Applied = [.. state.State.Applied, label], Keys = [.. state.State.Keys, idempotencyKey] });

    public Task UndoAsync(string undoes, string idempotencyKey, string label) =>
        state.State.Keys.Contains(undoes) ? ApplyAsync(idempotencyKey, label) : Task.CompletedTask;

    /// <summary>Kept in memory only once stored: a failed write must not look applied to the next call.</summary>
    private async Task WriteAsync(SagaEffects next)
    {
        var before = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }
    }

    public Task<SagaEffects> GetAsync() => Task.FromResult(state.State);
}
