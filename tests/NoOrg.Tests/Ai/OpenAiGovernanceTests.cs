using System.Diagnostics;
using System.Text.Json.Nodes;
using NoOrg.Client.Ai;
using Polly.CircuitBreaker;

namespace NoOrg.Tests.Ai;

/// <summary>The OpenAI client of the AI worker, over real HTTP to a chat-completions stub: answers, refusals, retries, breaker, budget.</summary>
public sealed class OpenAiGovernanceTests : IAsyncLifetime
{
    private ChatCompletionsStub stub = null!;

    public async Task InitializeAsync() => stub = await ChatCompletionsStub.StartAsync();

    public async Task DisposeAsync() => await stub.DisposeAsync();

    [Fact]
    public async Task An_answer_matching_the_schema_completes_with_output_usage_and_cost()
    {
        stub.Script(ChatCompletionsStub.Reply.Answer("""{"category":"bug","confidence":0.9,"summary":"crash on upload"}""", promptTokens: 1000, completionTokens: 200));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));

        var result = JsonNode.Parse(await AiTesting.Handler(connection).HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None))!;

        Assert.Equal("bug", (string?)result["output"]!["category"]);
        Assert.Equal("openai", (string?)result["provider"]);
        Assert.Equal("stub-model", (string?)result["model"]);
        Assert.Equal(1000, (long)result["usage"]!["inputTokens"]!);
        Assert.Equal(200, (long)result["usage"]!["outputTokens"]!);
        Assert.Equal(1200, (long)result["usage"]!["totalTokens"]!);
        Assert.Equal(0.8m, (decimal)result["cost"]!["amount"]!); // 1000 * 0.5 / 1000 + 200 * 1.5 / 1000
        Assert.Equal("USD", (string?)result["cost"]!["currency"]);
        Assert.Equal(0.8m, connection.Budget.Spent);

        var request = Assert.Single(stub.Requests);
        Assert.Equal($"Bearer {AiTesting.ApiKey}", request.Authorization);
        Assert.Equal("stub-model", (string?)request.Body["model"]);
        Assert.Equal("json_schema", (string?)request.Body["response_format"]!["type"]);
        var messages = request.Body["messages"]!.AsArray();
        Assert.Contains(messages, m => (string?)m!["role"] == "system" && m["content"]!.ToJsonString().Contains("You sort support tickets.", StringComparison.Ordinal));
        Assert.Contains(messages, m => (string?)m!["role"] == "user"
            && m["content"]!.ToJsonString().Contains("Classify this ticket from Ada: The app crashes when I upload a photo.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refusal_fails_the_task_with_the_models_reason_and_is_not_retried()
    {
        stub.Script(ChatCompletionsStub.Reply.Refusal("I can't help with sorting this ticket."));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));

        var e = await Assert.ThrowsAsync<LlmException>(() => AiTesting.Handler(connection).HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));

        Assert.Equal(LlmErrorCodes.Refused, e.Code);
        Assert.Contains("I can't help with sorting this ticket.", e.Message, StringComparison.Ordinal);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task An_answer_that_breaks_the_schema_fails_the_task_naming_each_violation()
    {
        stub.Script(ChatCompletionsStub.Reply.Answer("""{"category":"weather","summary":"sunny"}"""));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));
        var handler = AiTesting.Handler(connection);

        var e = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));

        Assert.Equal(LlmErrorCodes.InvalidOutput, e.Code);
        Assert.Contains("does not match its output schema", e.Message, StringComparison.Ordinal);
        Assert.Contains("/category", e.Message, StringComparison.Ordinal); // not one of the enum's values
        Assert.Contains("confidence", e.Message, StringComparison.Ordinal); // required, missing

        stub.Script(ChatCompletionsStub.Reply.Answer("Sure! It is a bug."));
        var notJson = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));
        Assert.Equal(LlmErrorCodes.InvalidOutput, notJson.Code);
        Assert.Contains("is not JSON", notJson.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_retried_after_its_Retry_After_and_then_succeeds()
    {
        stub.Script(
            ChatCompletionsStub.Reply.Error(429, "Rate limit reached", new Dictionary<string, string> { ["Retry-After"] = "1" }),
            ChatCompletionsStub.Reply.Answer("""{"category":"question","confidence":0.5,"summary":"how to upload"}"""));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));

        var clock = Stopwatch.StartNew();
        var result = JsonNode.Parse(await AiTesting.Handler(connection).HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None))!;

        Assert.Equal("question", (string?)result["output"]!["category"]);
        Assert.Equal(2, stub.Requests.Count);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"the retry waited {clock.Elapsed}, less than Retry-After: 1");
    }

    [Fact]
    public async Task A_400_is_not_retried()
    {
        stub.Script(ChatCompletionsStub.Reply.Error(400, "Invalid schema for response_format"));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));

        var e = await Assert.ThrowsAsync<LlmException>(() => AiTesting.Handler(connection).HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));

        Assert.Equal(LlmErrorCodes.Provider, e.Code);
        Assert.Contains("HTTP 400", e.Message, StringComparison.Ordinal);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task Repeated_500s_open_the_breaker_and_later_calls_are_refused_without_reaching_the_provider()
    {
        stub.Script(ChatCompletionsStub.Reply.Error(500, "The server had an error"));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub));
        var handler = AiTesting.Handler(connection);

        var first = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));
        var reached = stub.Requests.Count;
        var later = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));

        Assert.Equal(2, reached); // two failures in the window open it (minThroughput=2); the third attempt is held back
        Assert.Equal(CircuitState.Open, connection.Governance!.CircuitState);
        Assert.Equal(LlmErrorCodes.CircuitOpen, first.Code);
        Assert.Equal(LlmErrorCodes.CircuitOpen, later.Code);
        Assert.Contains("circuit breaker opened", later.Message, StringComparison.Ordinal);
        Assert.Equal(reached, stub.Requests.Count);
    }

    [Fact]
    public async Task Past_the_requests_per_minute_a_call_waits_for_a_permit_instead_of_reaching_the_provider()
    {
        stub.Script(ChatCompletionsStub.Reply.Answer("""{"category":"bug","confidence":0.9,"summary":"crash"}"""));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub, ("NOORG_LLM_REQUESTS_PER_MINUTE", "1")));
        var handler = AiTesting.Handler(connection);
        await handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None);

        // The permit comes back a minute after it was used: a caller that gives up after 1 s never gets one.
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), giveUp.Token));

        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task A_spent_budget_refuses_the_next_call_before_it_is_sent()
    {
        stub.Script(ChatCompletionsStub.Reply.Answer("""{"category":"bug","confidence":0.9,"summary":"crash"}""", promptTokens: 1000, completionTokens: 200));
        using var connection = LlmConnection.Create(AiTesting.OpenAiAt(stub, ("NOORG_LLM_BUDGET", "1.5")));
        var handler = AiTesting.Handler(connection);

        await handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None); // 0.8 spent
        await handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None); // 1.6 spent: over, charged in full
        var e = await Assert.ThrowsAsync<LlmException>(() => handler.HandleAsync(AiTesting.Task("classify", AiTesting.Ticket), CancellationToken.None));

        Assert.Equal(LlmErrorCodes.BudgetExhausted, e.Code);
        Assert.Contains("budget of 1.5 USD is spent (1.6 USD used)", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, stub.Requests.Count);
        Assert.Equal(1.6m, connection.Budget.Spent);
    }
}
