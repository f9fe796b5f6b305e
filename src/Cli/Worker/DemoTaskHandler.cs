using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Client.Workers;
using NoOrg.Grains.Tasks;

namespace NoOrg.Cli.Worker;

/// <summary>
/// What <c>noorg worker</c> does with a task, by task type: <c>echo</c> returns the input, <c>uppercase</c>
/// upper-cases every string in it, <c>sleep</c> waits <c>{"ms": N}</c> milliseconds, <c>fail</c> throws.
/// </summary>
internal sealed class DemoTaskHandler : IAgentTaskHandler
{
    public static readonly string[] Capabilities = ["echo", "uppercase", "sleep", "fail"];

    public async Task<string> HandleAsync(TaskSnapshot task, CancellationToken cancellationToken)
    {
        var input = JsonNode.Parse(task.Spec.InputJson);
        switch (task.Spec.Type)
        {
            case "uppercase":
                return Upper(input)?.ToJsonString() ?? "null";
            case "sleep":
                var ms = input?["ms"]?.GetValue<int>() ?? 1000;
                await Task.Delay(ms, cancellationToken);
                return JsonSerializer.Serialize(new { sleptMs = ms });
            case "fail":
                throw new InvalidOperationException(input?["message"]?.GetValue<string>() ?? "the demo task failed as asked");
            default:
                return input?.ToJsonString() ?? "null";
        }
    }

    private static JsonNode? Upper(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(s.ToUpperInvariant()),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Upper(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Upper)]),
        _ => node?.DeepClone(),
    };
}
