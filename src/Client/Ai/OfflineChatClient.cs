using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace NoOrg.Client.Ai;

/// <summary>
/// A model that needs no network and no key, for examples and tests: its answer is derived from the prompt alone
/// (a SHA-256 of the messages and the requested schema seeds every choice), so the same prompt gets the same answer
/// on any machine. Asked for JSON with a schema, it answers with an object that conforms to it; otherwise with a
/// short text quoting the prompt. Token counts are a quarter of the characters, rounded up.
/// </summary>
public sealed class OfflineChatClient : IChatClient
{
    public const string ModelName = "offline";

    private static readonly ChatClientMetadata Metadata = new("noorg-offline", null, ModelName);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        var list = messages.ToList();
        var prompt = string.Join("\n", list.Select(m => $"{m.Role}: {m.Text}"));
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            prompt = $"system: {instructions}\n{prompt}";
        }

        var schema = (options?.ResponseFormat as ChatResponseFormatJson)?.Schema;
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(prompt + "\n" + (schema?.GetRawText() ?? "")));
        var words = Words(list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? prompt);
        string text;
        if (schema is { } s)
        {
            text = new Generator(s, seed, words).Value(s, "$", 0)?.ToJsonString() ?? "null";
        }
        else if (options?.ResponseFormat is ChatResponseFormatJson)
        {
            text = new JsonObject { ["answer"] = Quote(words, seed, "answer", 12) }.ToJsonString();
        }
        else
        {
            text = $"Offline answer {Convert.ToHexStringLower(seed)[..8]}: {Quote(words, seed, "text", 24)}";
        }

        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = ModelName,
            ResponseId = $"offline-{Convert.ToHexStringLower(seed)[..16]}",
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = Tokens(prompt), OutputTokenCount = Tokens(text), TotalTokenCount = Tokens(prompt) + Tokens(text) },
        };
        return Task.FromResult(response);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? Metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    /// <summary>A quarter of the characters, rounded up, at least one.</summary>
    public static long Tokens(string text) => Math.Max(1, (text.Length + 3) / 4);

    private static string[] Words(string text)
    {
        var words = text.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return words.Length > 0 ? words : ["(empty)"];
    }

    /// <summary>Up to <paramref name="count"/> consecutive words of the prompt, starting where the seed points.</summary>
    private static string Quote(string[] words, byte[] seed, string path, int count)
    {
        var start = (int)(Pick(seed, path) % (ulong)words.Length);
        return string.Join(' ', words.Skip(start).Take(count));
    }

    private static ulong Pick(byte[] seed, string path)
    {
        var bytes = SHA256.HashData([.. seed, .. Encoding.UTF8.GetBytes(path)]);
        return BitConverter.ToUInt64(bytes, 0);
    }

    /// <summary>Builds a value that conforms to a JSON schema: every property, enum and bound honoured; choices from the seed.</summary>
    private sealed class Generator(JsonElement root, byte[] seed, string[] words)
    {
        private const int MaxDepth = 16;

        public JsonNode? Value(JsonElement schema, string path, int depth)
        {
            if (schema.ValueKind == JsonValueKind.True || schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
            {
                return null;
            }

            if (Get(schema, "$ref") is { ValueKind: JsonValueKind.String } reference && Resolve(reference.GetString()!) is { } target)
            {
                return Value(target, path, depth + 1);
            }

            if (Get(schema, "const") is { } constant)
            {
                return JsonNode.Parse(constant.GetRawText());
            }

            if (Get(schema, "enum") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
            {
                var index = (int)(Pick(seed, path) % (ulong)choices.GetArrayLength());
                return JsonNode.Parse(choices[index].GetRawText());
            }

            foreach (var composite in (string[])["anyOf", "oneOf", "allOf"])
            {
                if (Get(schema, composite) is { ValueKind: JsonValueKind.Array } options && options.GetArrayLength() > 0)
                {
                    return Value(options[0], path, depth + 1);
                }
            }

            return TypeOf(schema) switch
            {
                "object" => Object(schema, path, depth),
                "array" => Array(schema, path, depth),
                "string" => String(schema, path),
                "integer" => Number(schema, path, integer: true),
                "number" => Number(schema, path, integer: false),
                "boolean" => JsonValue.Create(Pick(seed, path) % 2 == 0),
                _ => null,
            };
        }

        private static string TypeOf(JsonElement schema)
        {
            var type = Get(schema, "type");
            if (type is { ValueKind: JsonValueKind.String })
            {
                return type.Value.GetString()!;
            }

            if (type is { ValueKind: JsonValueKind.Array })
            {
                return type.Value.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t is not null and not "null") ?? "null";
            }

            return Get(schema, "properties") is not null ? "object" : Get(schema, "items") is not null ? "array" : "string";
        }

        private JsonObject Object(JsonElement schema, string path, int depth)
        {
            var result = new JsonObject();
            if (Get(schema, "properties") is { ValueKind: JsonValueKind.Object } properties)
            {
                foreach (var property in properties.EnumerateObject())
                {
                    result[property.Name] = Value(property.Value, $"{path}.{property.Name}", depth + 1);
                }
            }

            return result;
        }

        private JsonArray Array(JsonElement schema, string path, int depth)
        {
            var min = Int(schema, "minItems") ?? 1;
            var max = Int(schema, "maxItems") ?? Math.Max(min, 3);
            var count = Math.Max(min, Math.Min(max, 1 + (int)(Pick(seed, path + "#n") % 3)));
            var items = Get(schema, "items") ?? default;
            var result = new JsonArray();
            for (var i = 0; i < count; i++)
            {
                result.Add(items.ValueKind == JsonValueKind.Undefined ? JsonValue.Create(i) : Value(items, $"{path}[{i}]", depth + 1));
            }

            return result;
        }

        private JsonValue String(JsonElement schema, string path)
        {
            var pick = Pick(seed, path);
            var text = Get(schema, "format")?.GetString() switch
            {
                "date-time" => DateTimeOffset.UnixEpoch.AddSeconds(pick % 2_000_000_000).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                "date" => DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(pick % 20_000)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                "uuid" => new Guid(SHA256.HashData([.. seed, .. Encoding.UTF8.GetBytes(path)])[..16]).ToString(),
                "email" => $"agent{pick % 10_000}@example.com",
                "uri" => $"https://example.com/{pick % 10_000}",
                _ => Quote(words, seed, path, 1 + (int)(pick % 6)),
            };
            var min = Int(schema, "minLength") ?? 0;
            var max = Int(schema, "maxLength") ?? int.MaxValue;
            while (text.Length < min)
            {
                text += Convert.ToHexStringLower(seed);
            }

            return JsonValue.Create(text.Length > max ? text[..Math.Max(min, max)] : text);
        }

        private JsonValue Number(JsonElement schema, string path, bool integer)
        {
            var min = Double(schema, "minimum") ?? (Double(schema, "exclusiveMinimum") is { } xmin ? xmin + 1 : 0);
            var max = Double(schema, "maximum") ?? (Double(schema, "exclusiveMaximum") is { } xmax ? xmax - 1 : min + 100);
            if (max < min)
            {
                max = min;
            }

            var fraction = (Pick(seed, path) % 10_001) / 10_000.0;
            var value = min + (max - min) * fraction;
            if (integer)
            {
                var whole = Math.Clamp(Math.Round(value), Math.Ceiling(min), Math.Floor(max));
                return JsonValue.Create((long)whole);
            }

            return JsonValue.Create(Math.Round(value, 4));
        }

        private JsonElement? Resolve(string reference)
        {
            if (!reference.StartsWith("#/", StringComparison.Ordinal))
            {
                return null;
            }

            var node = root;
            foreach (var part in reference[2..].Split('/'))
            {
                if (Get(node, part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)) is not { } next)
                {
                    return null;
                }

                node = next;
            }

            return node;
        }

        private static JsonElement? Get(JsonElement schema, string name) =>
            schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty(name, out var value) ? value : null;

        private static int? Int(JsonElement schema, string name) => Get(schema, name) is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out var i) ? i : null;

        private static double? Double(JsonElement schema, string name) => Get(schema, name) is { ValueKind: JsonValueKind.Number } n ? n.GetDouble() : null;
    }
}
