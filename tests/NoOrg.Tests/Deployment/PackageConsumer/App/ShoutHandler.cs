using System.Text.Json;
using NoOrg.Client.Workers;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace App;

/// <summary>An agent's work: the task's input string, upper-cased.</summary>
public sealed class ShoutHandler : IAgentTaskHandler
{
    public const string Capability = "shout";

    public static AgentRegistration Registration { get; } =
        new("Shouter", "consumer", "upper-cases its input", [Capability], 2, new Dictionary<string, string>());

    public static TaskSpec Task(string text) =>
        new("shout", Capability, InputJson: JsonSerializer.Serialize(text), RequiredCapabilities: [Capability]);

    public Task<string> HandleAsync(TaskSnapshot task, CancellationToken cancellationToken) =>
        System.Threading.Tasks.Task.FromResult(JsonSerializer.Serialize(JsonSerializer.Deserialize<string>(task.Spec.InputJson)!.ToUpperInvariant()));
}
