using System.Text;
using System.Text.Json;
using CsCheck;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;

namespace NoOrg.Tests.Validation;

/// <summary>
/// Generators of task specs and agent registrations biased toward the edges: empty, the limit and one past it,
/// NUL, C0 and C1 controls, ANSI escapes, lone surrogates, emoji, enums out of range, 100 and 101 capabilities,
/// large metadata. Most fields are ordinary most of the time, so a good share of the cases is accepted.
/// </summary>
internal static class EdgeInputs
{
    private static readonly string FiveMegabytes = new('m', 5 * 1024 * 1024);

    public static Gen<string> Plain { get; } = Gen.Char['a', 'z'].Array[1, 12].Select(chars => new string(chars));

    /// <summary>A name-like string with at most <paramref name="max"/> characters allowed.</summary>
    public static Gen<string> Text(int max) => Pick(
        (30, Plain),
        (1, Gen.Const("")),
        (1, Gen.Const("   ")),
        (1, Gen.Const(new string('x', max))),
        (1, Gen.Const(new string('x', max + 1))),
        (1, Gen.Const(string.Concat(Enumerable.Repeat("😀", max / 2)))),
        (1, Gen.Const("a\0b")),
        (1, Gen.Char['\u0001', '\u001f'].Select(c => $"c0{c}x")),
        (1, Gen.Const("del\u007f")),
        (1, Gen.Char['\u0080', '\u009f'].Select(c => $"c1{c}x")),
        (1, Gen.Const("\u001b[31mred\u001b[0m")),
        (1, Gen.Const("high\ud800")),
        (1, Gen.Const("\udc00low")),
        (1, Gen.Const("emoji 😀 ok")),
        (1, Gen.Const("bidi \u202e ok")));

    /// <summary>Free text (a description, a metadata value): line breaks and tabs are fine, NUL and lone surrogates not.</summary>
    public static Gen<string> FreeText(int max) => Pick(
        (20, Plain),
        (3, Gen.Const("")),
        (1, Gen.Const("two\nlines\tand a tab")),
        (1, Gen.Const("\u001b[2J clear screen")),
        (1, Gen.Const(new string('d', max))),
        (1, Gen.Const(new string('d', max + 1))),
        (1, Gen.Const("nul\0here")),
        (1, Gen.Const("lone \udbff")),
        (1, Gen.Const("emoji 😀")));

    /// <summary>Ids a grain can be called with: valid ones mostly, and invalid ones that still reach the grain.</summary>
    public static Gen<string> AddressableId { get; } = Pick(
        (20, Gen.Const(() => $"v-{Guid.NewGuid():N}")),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N}" + new string('i', 256 - 34))),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N}" + new string('i', 257 - 34))),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N} space")),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N}\u001b[1m")),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N}\u200b")),
        (1, Gen.Const(() => $"v-{Guid.NewGuid():N}-😀")));

    /// <summary>Every kind of id, including those no grain can be addressed by (NUL, lone surrogates, empty).</summary>
    public static Gen<string> AnyId { get; } = Pick(
        (6, AddressableId),
        (1, Gen.Const("")),
        (1, Gen.Const("t\0nul")),
        (1, Gen.Const("t-\ud800")));

    public static Gen<string[]> Capabilities { get; } = Pick(
        (12, Pick((12, Plain), (1, Text(AgentRules.MaxCapabilityLength))).Array[1, 3]),
        (2, Gen.Const(Array.Empty<string>())),
        (1, Gen.Const(Numbered("c", AgentRules.MaxRequiredCapabilities))),
        (1, Gen.Const(Numbered("c", AgentRules.MaxRequiredCapabilities + 1))),
        (1, Gen.Const(Numbered("c", AgentRules.MaxCapabilities))),
        (1, Gen.Const(Numbered("c", AgentRules.MaxCapabilities + 1))),
        (1, Gen.Const(new[] { " padded " })));

    public static Gen<Dictionary<string, string>?> Metadata { get; } = Pick(
        (6, Gen.Const((Dictionary<string, string>?)null)),
        (6, Gen.Select(Plain, FreeText(AgentRules.MaxMetadataValueLength), (k, v) => (Dictionary<string, string>?)new() { [k] = v })),
        (1, Gen.Select(Text(AgentRules.MaxMetadataKeyLength), Plain, (k, v) => (Dictionary<string, string>?)new() { [k] = v })),
        (1, Gen.Const<Dictionary<string, string>?>(() => Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => "v"))),
        (1, Gen.Const<Dictionary<string, string>?>(() => Enumerable.Range(0, 64).ToDictionary(i => $"k{i}", _ => new string('v', 1000)))),
        (1, Gen.Const<Dictionary<string, string>?>(() => new() { ["big"] = FiveMegabytes })));

    public static Gen<TaskPriority> Priority { get; } = Pick(
        (12, Gen.Int[0, 3]),
        (1, Gen.OneOf(-1, 4, 99, 40000))).Select(p => (TaskPriority)p);

    public static Gen<string> Input { get; } = Pick(
        (10, Gen.Const("null")),
        (6, Plain.Select(s => JsonSerializer.Serialize(new { s }))),
        (1, Gen.Const("{not json")),
        (1, Gen.Const("\"escaped nul \\u0000 is plain text\"")),
        (1, Gen.Const("\"raw lone \ud800\"")),
        (1, Gen.Const(JsonString(64 * 1024))),
        (1, Gen.Const(JsonString((64 * 1024) + 1))));

    /// <summary>A task id (any kind) and a spec; dependencies and parents only ever name invalid ids.</summary>
    public static Gen<(string Id, TaskSpec Spec)> Tasks(Gen<string> ids) => Gen.Select(
        ids, Text(TaskSpecRules.MaxNameLength), Text(TaskSpecRules.MaxTypeLength), FreeText(TaskSpecRules.MaxDescriptionLength), Input,
        Priority, Capabilities, Metadata,
        Pick((12, Gen.Const((string?)null)), (2, Plain.Select(s => (string?)s)), (1, Text(256).Select(s => (string?)s))),
        Pick((20, Gen.Const((string[]?)null)), (1, Gen.OneOf("", "a\0b", new string('x', 257), "a b").Select(s => (string[]?)[s]))),
        Pick((20, Gen.Const((string?)null)), (1, Gen.OneOf("", "\u001b", new string('p', 257)).Select(s => (string?)s))),
        (id, name, type, description, input, priority, capabilities, metadata, key, dependsOn, parent) => (id, new TaskSpec(
            name, type, description, input, priority, capabilities, dependsOn, parent, IdempotencyKey: key, Metadata: metadata)));

    public static Gen<(string Id, AgentRegistration Registration)> Agents(Gen<string> ids) => Gen.Select(
        ids, Text(AgentRules.MaxNameLength), Text(AgentRules.MaxTypeLength), FreeText(AgentRules.MaxDescriptionLength), Capabilities,
        Pick((12, Gen.Int[1, 4]), (1, Gen.OneOf(0, -1, 1000, 1001))), Metadata,
        (id, name, type, description, capabilities, max, metadata) => (id, new AgentRegistration(
            name, type, description, capabilities, max, metadata ?? new Dictionary<string, string>())));

    /// <summary>A string for a failure report: escaped and cut, since some are megabytes long.</summary>
    public static string Show(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var builder = new StringBuilder("\"");
        foreach (var c in value.Length > 40 ? value[..40] : value)
        {
            builder.Append(c is < ' ' or (>= '\u007f' and <= '\u009f') || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c);
        }

        return builder.Append(value.Length > 40 ? $"…\"({value.Length})" : "\"").ToString();
    }

    private static string[] Numbered(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => $"{prefix}{i}")];

    /// <summary>A JSON string literal of exactly <paramref name="bytes"/> UTF-8 bytes.</summary>
    private static string JsonString(int bytes) => "\"" + new string('j', bytes - 2) + "\"";

    private static Gen<T> Pick<T>(params (int Weight, Gen<T> Gen)[] choices) =>
        Gen.Frequency([.. choices.Select(c => (c.Weight, (IGen<T>)c.Gen))]);
}
