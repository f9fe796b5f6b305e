using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using NoOrg.Tests.Cluster;

namespace NoOrg.Tests.Api;

/// <summary>
/// Generated hostile bodies (malformed JSON, wrong types, oversize, deep nesting, control and unicode characters)
/// sent to every endpoint that takes a body: each answer is a success or a 4xx problem document, never a 500, and
/// the number of tasks, agents and webhooks grows by exactly the number of successes (no partial writes).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ApiFuzzTests(ApiSilo silo, Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Bodies = 1200;

    private static readonly string[] NastyText =
    [
        "\u0000", "\u0007", "\u001b[31m", "\r\n", "\t", "\u007f", "\u0085", "\u200b", "\u202e", "\ufeff", "\uffff", "😀", "é", "e\u0301",
        "\\ud800", "\\udc00", "\\ud83d", "\\u0000", "\"", "\\", "/", "<script>", "'; drop table tasks; --", "%s%n", "${x}", "　",
    ];

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.String,
        Gen.Char.Array[0, 40].Select(c => new string(c)),
        Gen.OneOf(NastyText).Array[1, 6].Select(parts => string.Concat(parts)));

    /// <summary>Any JSON value, as text, of a kind an endpoint may or may not expect.</summary>
    private static readonly Gen<string> AnyValue = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
        Gen.OneOf("true", "false", "null", "[]", "{}", "[null]", "{\"a\":null}", "\"\"", "-0", "1e999", "99999999999999999999"),
        Text.Select(Quote));

    private static readonly (string Method, string Path, string[] Fields)[] Targets =
    [
        ("POST", "/v1/tasks", ["name", "type", "description", "inputJson", "priority", "requiredCapabilities", "dependsOn", "parentId", "timeout", "maxAttempts", "retryBackoff", "deadline", "idempotencyKey", "metadata"]),
        ("PUT", "/v1/agents/{agent}", ["name", "type", "description", "capabilities", "maxConcurrentTasks", "metadata"]),
        ("POST", "/v1/webhooks", ["url", "events", "description", "secret"]),
        ("POST", "/v1/sagas", ["definition", "inputJson", "sagaId"]),
        ("PUT", "/v1/limits/fuzz", ["name", "kind", "permitLimit", "window", "tokensPerPeriod", "queueTimeout"]),
        ("POST", "/v1/tasks/t-fuzz-none/cancel", ["reason"]),
    ];

    private static readonly Gen<string> Body = Gen.Int[0, Targets.Length - 1].SelectMany(t => Gen.OneOf(
        // Malformed: random text, or a plausible body cut short or with a stray character.
        Text,
        Plausible(Targets[t].Fields).SelectMany(b => Gen.Int[0, Math.Max(0, b.Length - 1)].Select(cut => b[..cut])),
        Plausible(Targets[t].Fields).SelectMany(b => Gen.Int[0, b.Length].SelectMany(at => Gen.OneOf(",", "}", "{", "\"", ":", "\\", "\u0001").Select(c => b.Insert(at, c)))),
        // Wrong types and odd values in otherwise well-formed objects.
        Plausible(Targets[t].Fields),
        // Deep nesting, in the body itself and in a JSON-text field.
        Gen.Int[60, 3000].Select(depth => new string('[', depth) + new string(']', depth)),
        Gen.Int[60, 500].Select(depth => "{\"name\":\"deep\",\"type\":\"x\",\"inputJson\":" + Quote(new string('[', depth) + new string(']', depth)) + "}"),
        // Oversize: over the request limit, and a task input over its own limit.
        Gen.Const("{\"name\":\"big\",\"type\":\"x\",\"description\":\"" + new string('x', 1100 * 1024) + "\"}"),
        Gen.Const("{\"name\":\"big\",\"type\":\"x\",\"inputJson\":" + Quote("\"" + new string('y', 70 * 1024) + "\"") + "}"))
        .Select(body => $"{t}|{body}"));

    private static Gen<string> Plausible(string[] fields) =>
        Gen.Int[1, fields.Length].SelectMany(count =>
            Gen.Shuffle(fields, count).SelectMany(chosen =>
                AnyValue.Array[chosen.Length].Select(values =>
                    "{" + string.Join(",", chosen.Select((f, i) => Quote(f) + ":" + values[i])) + "}")));

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text).Replace("\\\\u", "\\u", StringComparison.Ordinal);

    [Fact]
    public async Task Generated_hostile_bodies_get_success_or_a_4xx_problem_document_and_never_a_partial_write()
    {
        var tasksBefore = await TotalAsync("/v1/tasks?take=1");
        var agentsBefore = await TotalAsync("/v1/agents/counts");
        var webhooksBefore = (await silo.GetJsonAsync("/v1/webhooks")).AsArray().Count;
        var created = new Dictionary<string, int>(StringComparer.Ordinal);
        var statuses = new SortedDictionary<int, int>();
        var sent = 0;
        var agent = 0;

        await Body.SampleAsync(async generated =>
        {
            var separator = generated.IndexOf('|', StringComparison.Ordinal);
            var target = Targets[int.Parse(generated[..separator], System.Globalization.CultureInfo.InvariantCulture)];
            var body = generated[(separator + 1)..];
            var path = target.Path.Replace("{agent}", "fuzz-" + Interlocked.Increment(ref agent), StringComparison.Ordinal);
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var (status, problem, response) = await silo.SendAsync(new HttpMethod(target.Method), path, content);
            sent++;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status < 500, $"{target.Method} {path} answered {status} to {Shorten(body)}: {problem}");
            if (status >= 400)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Equal(status, problem!["status"]!.GetValue<int>());
                Assert.False(string.IsNullOrEmpty(problem["code"]?.GetValue<string>()), $"no code in {problem}");
            }
            else
            {
                created[target.Path] = created.GetValueOrDefault(target.Path) + 1;
            }
        }, iter: Bodies, threads: 1);

        output.WriteLine($"{sent} bodies; answers: {string.Join(", ", statuses.Select(s => $"{s.Key} x{s.Value}"))}");
        Assert.True(sent >= 1000, $"only {sent} bodies were sent");
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 3, "the bodies reach several kinds of refusal: " + string.Join(", ", statuses.Select(s => $"{s.Key}x{s.Value}")));
        Assert.Equal(tasksBefore + created.GetValueOrDefault("/v1/tasks"), await TotalAsync("/v1/tasks?take=1"));
        Assert.Equal(agentsBefore + created.GetValueOrDefault("/v1/agents/{agent}"), await TotalAsync("/v1/agents/counts"));
        Assert.Equal(webhooksBefore + created.GetValueOrDefault("/v1/webhooks"), (await silo.GetJsonAsync("/v1/webhooks")).AsArray().Count);
    }

    private async Task<long> TotalAsync(string path) => (await silo.GetJsonAsync(path))["total"]!.GetValue<long>();

    private static string Shorten(string body) => body.Length > 300 ? body[..300] + $"... ({body.Length} characters)" : body;
}
