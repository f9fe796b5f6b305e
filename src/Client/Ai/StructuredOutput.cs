using System.Text.Json;
using Json.Schema;

namespace NoOrg.Client.Ai;

/// <summary>An instruction's output schema: what is asked of the model, and the check its answer must pass.</summary>
internal sealed class StructuredOutput
{
    private readonly JsonSchema schema;

    private StructuredOutput(JsonElement element, JsonSchema schema)
    {
        Element = element;
        this.schema = schema;
    }

    public JsonElement Element { get; }

    public static (StructuredOutput? Output, string? Problem) Parse(string taskType, string text)
    {
        var field = $"Instructions[{taskType}].OutputSchema";
        try
        {
            var element = JsonDocument.Parse(text).RootElement.Clone();
            if (element.ValueKind != JsonValueKind.Object)
            {
                return (null, $"{field}: must be a JSON object (a JSON schema)");
            }

            // A registry of its own: two instructions may use the same $id.
            var built = JsonSchema.Build(element, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            return (new StructuredOutput(element, built), null);
        }
        catch (Exception e) when (e is JsonException or JsonSchemaException or ArgumentException or InvalidOperationException)
        {
            return (null, $"{field}: is not a valid JSON schema ({e.Message})");
        }
    }

    /// <summary>Each way <paramref name="answer"/> fails the schema, as "location: message"; empty when it conforms.</summary>
    public IReadOnlyList<string> Check(JsonElement answer)
    {
        var results = schema.Evaluate(answer, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        var problems = (results.Details ?? [])
            .Prepend(results)
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return problems.Count > 0 ? problems : ["/: does not match the schema"];
    }
}
