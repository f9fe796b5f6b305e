using System.Text.Json;

namespace NoOrg.Grains.Sagas;

/// <summary>
/// What a step or compensation receives: the saga input, the outputs of the steps that succeeded before it, the
/// idempotency key to hand to any system it changes, and a token signalled when the attempt is no longer wanted.
/// </summary>
public sealed class SagaStepContext(
    SagaActionRequest request, SagaActionKind kind, IServiceProvider services, IGrainFactory grains, CancellationToken cancellationToken)
{
    public string SagaId => request.SagaId;

    public string Definition => request.Definition;

    public string StepId => request.StepId;

    public SagaActionKind Kind => kind;

    /// <summary>1 for the first attempt of this step (or of its compensation).</summary>
    public int Attempt => request.Attempt;

    /// <summary><c>{sagaId}:{stepId}</c>: the same for every attempt, so a system that honours it applies the effect once.</summary>
    public string IdempotencyKey => SagaKeys.Action(request.SagaId, request.StepId);

    /// <summary>The saga's input; for a compensation recorded in a scope, the arguments it was recorded with.</summary>
    public string InputJson => request.InputJson;

    /// <summary>Output JSON of each step that succeeded so far, by step id.</summary>
    public IReadOnlyDictionary<string, string> Outputs => request.Outputs;

    public CancellationToken CancellationToken => cancellationToken;

    public IServiceProvider Services => services;

    public IGrainFactory Grains => grains;

    public T? Input<T>() => JsonSerializer.Deserialize<T>(InputJson, SagaKeys.Json);

    public T? Output<T>(string stepId) => Outputs.TryGetValue(stepId, out var json) ? JsonSerializer.Deserialize<T>(json, SagaKeys.Json) : default;
}

/// <summary>A step or compensation written as a class, created per attempt from the silo's services.</summary>
public interface ISagaStep
{
    /// <summary>Returns the step's output as JSON (or null); throws to fail the attempt.</summary>
    Task<string?> ExecuteAsync(SagaStepContext context);
}

/// <summary>Keys and formats shared by the saga grains.</summary>
public static class SagaKeys
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The key of a step's and a compensation's grain, and the idempotency key of their effects.</summary>
    public static string Action(string sagaId, string stepId) => sagaId + ":" + stepId;

    /// <summary>Splits an action key at its last colon (step ids never contain one).</summary>
    public static (string SagaId, string StepId) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var at = key.LastIndexOf(':');
        return at <= 0 ? throw new ArgumentException($"'{key}' is not a saga action key (sagaId:stepId).", nameof(key)) : (key[..at], key[(at + 1)..]);
    }
}
