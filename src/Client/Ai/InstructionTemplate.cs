using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NoOrg.Grains.Tasks;

namespace NoOrg.Client.Ai;

/// <summary>An instruction template, checked once at start and rendered for each task (see <see cref="AiInstruction.Template"/>).</summary>
internal sealed partial class InstructionTemplate
{
    private static readonly string[] TaskFields = ["id", "name", "type", "description"];

    private readonly string text;
    private readonly string taskType;

    private InstructionTemplate(string taskType, string text)
    {
        this.taskType = taskType;
        this.text = text;
    }

    /// <summary>The template, or the problems that keep it from being one (each "field: message").</summary>
    public static (InstructionTemplate? Template, IReadOnlyList<string> Problems) Parse(string taskType, string? text)
    {
        var field = $"Instructions[{taskType}].Template";
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, [$"{field}: must not be empty"]);
        }

        var problems = new List<string>();
        foreach (Match match in Placeholder().Matches(text))
        {
            var path = match.Groups["path"].Value;
            var root = path.Split('.')[0];
            if (root == "task" ? !TaskFields.Contains(path.Split('.').ElementAtOrDefault(1)) || path.Count(c => c == '.') != 1 : root != "input")
            {
                problems.Add($"{field}: '{{{{{path}}}}}' is not a placeholder; use {{{{input}}}}, {{{{input.FIELD...}}}} or {{{{task.id|name|type|description}}}}");
            }
        }

        var rest = Placeholder().Replace(text, "");
        if (rest.Contains("{{", StringComparison.Ordinal) || rest.Contains("}}", StringComparison.Ordinal))
        {
            problems.Add($"{field}: has '{{{{' or '}}}}' outside a placeholder; a placeholder is {{{{input.FIELD}}}} (letters, digits, '_', '-', '.')");
        }

        return problems.Count == 0 ? (new InstructionTemplate(taskType, text), []) : (null, problems);
    }

    /// <summary>The user message for <paramref name="task"/>; a value the template needs and the input lacks is an <see cref="LlmException"/>.</summary>
    public string Render(TaskSnapshot task, JsonElement input) =>
        Placeholder().Replace(text, match =>
        {
            var path = match.Groups["path"].Value;
            return path switch
            {
                "task.id" => task.Id,
                "task.name" => task.Spec.Name,
                "task.type" => task.Spec.Type,
                "task.description" => task.Spec.Description,
                _ => Value(input, path),
            };
        });

    private string Value(JsonElement input, string path)
    {
        var node = input;
        foreach (var segment in path.Split('.').Skip(1))
        {
            var found = node.ValueKind switch
            {
                JsonValueKind.Object when node.TryGetProperty(segment, out var child) => child,
                JsonValueKind.Array when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < node.GetArrayLength() => node[i],
                _ => (JsonElement?)null,
            };
            if (found is not { } next)
            {
                throw new LlmException(LlmErrorCodes.InvalidTask,
                    $"the instruction for task type '{taskType}' needs {{{{{path}}}}}, and the task's input has no '{segment}' there");
            }

            node = next;
        }

        return node.ValueKind == JsonValueKind.String ? node.GetString()! : Compact(node);
    }

    private static string Compact(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [GeneratedRegex(@"\{\{\s*(?<path>[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)\s*\}\}")]
    private static partial Regex Placeholder();
}
