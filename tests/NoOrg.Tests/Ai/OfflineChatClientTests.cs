using System.Text.Json;
using Microsoft.Extensions.AI;
using NoOrg.Client.Ai;

namespace NoOrg.Tests.Ai;

/// <summary>The offline model: same prompt, same answer, anywhere; a requested schema is honoured.</summary>
public sealed class OfflineChatClientTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse(AiTesting.ClassifySchema).RootElement;

    [Fact]
    public async Task The_same_prompt_gets_the_same_answer_and_usage_and_another_prompt_another_answer()
    {
        using var model = new OfflineChatClient();
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(Schema, "classify") };

        var first = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "The app crashes on upload.")], options);
        var again = await new OfflineChatClient().GetResponseAsync([new ChatMessage(ChatRole.User, "The app crashes on upload.")], options);
        var other = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "How do I export my data?")], options);

        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Usage!.InputTokenCount, again.Usage!.InputTokenCount);
        Assert.Equal(first.Usage.OutputTokenCount, again.Usage.OutputTokenCount);
        Assert.NotEqual(first.Text, other.Text);
        Assert.Equal(OfflineChatClient.ModelName, first.ModelId);
    }

    [Fact]
    public async Task Tokens_are_a_quarter_of_the_characters_rounded_up()
    {
        using var model = new OfflineChatClient();

        var response = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "12345678901")]); // "user: 12345678901": 17 characters

        Assert.Equal(5, response.Usage!.InputTokenCount);
        Assert.Equal((response.Text.Length + 3) / 4, response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
    }

    [Theory]
    [InlineData("The app crashes on upload.")]
    [InlineData("")]
    [InlineData("Ünïcödé 漢字 and \"quotes\"")]
    public async Task An_answer_to_a_schema_conforms_to_it(string prompt)
    {
        using var model = new OfflineChatClient();
        var (output, problem) = StructuredOutput.Parse("classify", AiTesting.ClassifySchema);
        Assert.Null(problem);

        var response = await model.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(Schema, "classify") });

        Assert.Empty(output!.Check(JsonDocument.Parse(response.Text).RootElement));
    }

    [Fact]
    public async Task Nested_objects_arrays_refs_formats_and_bounds_are_honoured()
    {
        const string schema = """
            {
              "$defs": { "step": { "type": "object", "properties": { "id": { "type": "integer", "minimum": 10, "maximum": 20 }, "at": { "type": "string", "format": "date-time" } }, "required": ["id", "at"] } },
              "type": "object",
              "properties": {
                "steps": { "type": "array", "items": { "$ref": "#/$defs/step" }, "minItems": 2, "maxItems": 4 },
                "done": { "type": "boolean" },
                "code": { "type": "string", "minLength": 40 },
                "kind": { "const": "plan" },
                "note": { "type": ["string", "null"] }
              },
              "required": ["steps", "done", "code", "kind", "note"]
            }
            """;
        var (output, problem) = StructuredOutput.Parse("plan", schema);
        Assert.Null(problem);
        using var model = new OfflineChatClient();

        var response = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "plan a release")],
            new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse(schema).RootElement, "plan") });

        var answer = JsonDocument.Parse(response.Text).RootElement;
        Assert.Empty(output!.Check(answer));
        Assert.InRange(answer.GetProperty("steps").GetArrayLength(), 2, 4);
        Assert.Equal("plan", answer.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Without_a_schema_it_answers_text_quoting_the_prompt()
    {
        using var model = new OfflineChatClient();

        var response = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "alpha beta gamma")]);

        Assert.StartsWith("Offline answer ", response.Text, StringComparison.Ordinal);
        Assert.Contains("gamma", response.Text, StringComparison.Ordinal);
    }
}
