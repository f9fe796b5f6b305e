using NoOrg.Client.Tasks;
using NoOrg.Grains.Sagas;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli;

/// <summary>
/// One line on standard error each time what a waited-for task or saga is doing changes (its state, why it waits,
/// which step runs). Commands use it on a terminal only: on a pipe they stay quiet and print just the final result.
/// </summary>
internal sealed class WaitProgress<T>(string subject, Func<T, string> describe, TextWriter? writer = null) : IProgress<T>
{
    private readonly TextWriter writer = writer ?? Console.Error;
    private string? last;

    public void Report(T value)
    {
        var now = describe(value);
        if (now != last)
        {
            last = now;
            writer.WriteLine(TerminalText.Escape($"waiting for {subject}: {now}"));
        }
    }
}

internal static class WaitProgress
{
    public static WaitProgress<TaskSnapshot> ForTask(string taskId, TextWriter? writer = null) =>
        new($"task {taskId}", t => TaskClient.Describe(t) + (t.AssignedTo is { } agent && !t.IsTerminal ? $" on {agent}" : ""), writer);

    public static WaitProgress<SagaSnapshot> ForSaga(string sagaId, TextWriter? writer = null) => new($"saga {sagaId}", Describe, writer);

    /// <summary>"running (step reserve)", "compensating (step charge)": the saga's status and the steps moving now.</summary>
    internal static string Describe(SagaSnapshot saga)
    {
        var moving = saga.Steps.Where(s => s.Phase is SagaStepPhase.Running or SagaStepPhase.Compensating).Select(s => s.StepId).ToList();
        var status = saga.Status.ToString().ToLowerInvariant();
        return moving.Count == 0 ? status : $"{status} (step {string.Join(", ", moving)})";
    }
}
