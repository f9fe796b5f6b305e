using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NoOrg.Grains.Tasks;

namespace NoOrg.Grains.Sagas;

/// <summary>What a step or compensation does: code in the silo, or a NoOrg task run by an agent.</summary>
public abstract class SagaAction
{
    /// <summary>Shown by <c>noorg sagas definitions</c>: <c>code</c>, <c>code:TypeName</c> or <c>task:type</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>Returns the output JSON (or null); throws to fail the attempt.</summary>
    public abstract Task<string?> ExecuteAsync(SagaStepContext context);
}

internal sealed class DelegateSagaAction(Func<SagaStepContext, Task<string?>> action) : SagaAction
{
    public override string Kind => "code";

    public override Task<string?> ExecuteAsync(SagaStepContext context) => action(context);
}

internal sealed class TypedSagaAction<TStep> : SagaAction where TStep : ISagaStep
{
    public override string Kind => "code:" + typeof(TStep).Name;

    public override Task<string?> ExecuteAsync(SagaStepContext context) =>
        ActivatorUtilities.CreateInstance<TStep>(context.Services).ExecuteAsync(context);
}

/// <summary>
/// A NoOrg task of <paramref name="taskType"/> for an agent with every capability in <paramref name="capabilities"/>.
/// The task id is derived from the idempotency key and the attempt, so a repeated request finds the task it created
/// instead of creating another; the action waits for the task's outcome, polling the task grain.
/// </summary>
internal sealed class AgentTaskSagaAction(string taskType, IReadOnlyList<string> capabilities) : SagaAction
{
    public override string Kind => "task:" + taskType;

    public string TaskType => taskType;

    public IReadOnlyList<string> Capabilities => capabilities;

    public static string TaskId(SagaStepContext context) =>
        $"saga-{context.IdempotencyKey}{(context.Kind == SagaActionKind.Compensation ? ":undo" : "")}#{context.Attempt}";

    public override async Task<string?> ExecuteAsync(SagaStepContext context)
    {
        var settings = context.Services.GetRequiredService<NoOrg.Configuration.NoOrgSettings>().Sagas;
        var input = JsonSerializer.Serialize(new
        {
            saga = context.SagaId,
            step = context.StepId,
            compensation = context.Kind == SagaActionKind.Compensation,
            input = JsonDocument.Parse(context.InputJson).RootElement,
            outputs = context.Outputs.ToDictionary(o => o.Key, o => JsonDocument.Parse(o.Value).RootElement),
        }, SagaKeys.Json);
        var id = TaskId(context);
        var spec = new TaskSpec(
            Name: $"{context.Definition}/{context.StepId}{(context.Kind == SagaActionKind.Compensation ? " (compensation)" : "")}",
            Type: taskType, InputJson: input, RequiredCapabilities: capabilities, MaxAttempts: 1,
            IdempotencyKey: id, Metadata: new Dictionary<string, string> { ["saga"] = context.SagaId, ["step"] = context.StepId });
        var task = context.Grains.GetGrain<ITaskGrain>(id);
        await task.CreateAsync(spec, "saga:" + context.SagaId);
        var poll = TimeSpan.FromMilliseconds(settings.TaskPollMilliseconds);
        while (true)
        {
            if (context.CancellationToken.IsCancellationRequested)
            {
                await CancelQuietlyAsync(task);
                context.CancellationToken.ThrowIfCancellationRequested();
            }

            var snapshot = await task.GetAsync() ?? throw new InvalidOperationException($"task {id} disappeared");
            switch (snapshot.State)
            {
                case TaskState.Completed:
                    return snapshot.ResultJson;
                case TaskState.Failed or TaskState.Cancelled:
                    throw new InvalidOperationException($"task {id} {snapshot.State.ToString().ToLowerInvariant()}: {snapshot.Error ?? "no reason given"}");
            }

            try
            {
                await Task.Delay(poll, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Loop once more: the task is cancelled before the attempt gives up.
            }
        }
    }

    private static async Task CancelQuietlyAsync(ITaskGrain task)
    {
        try
        {
            await task.CancelAsync("the saga no longer needs this attempt", "saga");
        }
        catch (Errors.InvalidTransitionException)
        {
            // Already finished.
        }
    }
}
