namespace NoOrg.Tests.Deployment;

/// <summary>The repository's Dockerfile read as stages of instructions (continuations joined, comments dropped).</summary>
public sealed record DockerfileModel(IReadOnlyList<DockerfileModel.Stage> Stages)
{
    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions)
    {
        public IEnumerable<string> All(string keyword) =>
            Instructions.Where(i => i.Keyword == keyword).Select(i => i.Arguments);
    }

    public Stage Final => Stages[^1];

    public static DockerfileModel Parse(string text)
    {
        var stages = new List<Stage>();
        foreach (var (keyword, arguments) in Instructions(text))
        {
            if (keyword == "FROM")
            {
                var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var name = parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null;
                stages.Add(new Stage(parts[0], name, []));
            }
            else if (stages.Count > 0)
            {
                var stage = stages[^1];
                stages[^1] = stage with { Instructions = [.. stage.Instructions, new Instruction(keyword, arguments)] };
            }
        }

        return new DockerfileModel(stages);
    }

    /// <summary>ENV of a stage as a dictionary (both the <c>KEY=value ...</c> and the <c>KEY value</c> forms).</summary>
    public static IReadOnlyDictionary<string, string> Environment(Stage stage)
    {
        var environment = new Dictionary<string, string>();
        foreach (var arguments in stage.All("ENV"))
        {
            if (!arguments.Split(' ', 2)[0].Contains('=', StringComparison.Ordinal))
            {
                var pair = arguments.Split(' ', 2);
                environment[pair[0]] = pair[1].Trim();
                continue;
            }

            foreach (var pair in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                environment[pair[..equals]] = pair[(equals + 1)..].Trim('"');
            }
        }

        return environment;
    }

    private static IEnumerable<(string Keyword, string Arguments)> Instructions(string text)
    {
        var current = new System.Text.StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (current.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }

            var continues = line.EndsWith('\\');
            current.Append(continues ? line[..^1] : line).Append(' ');
            if (continues)
            {
                continue;
            }

            var instruction = current.ToString().Trim();
            current.Clear();
            var space = instruction.IndexOf(' ', StringComparison.Ordinal);
            yield return space < 0
                ? (instruction.ToUpperInvariant(), "")
                : (instruction[..space].ToUpperInvariant(), string.Join(' ', instruction[(space + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        }
    }
}
