using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NoOrg.Tests.Ai;

/// <summary>
/// An LLM endpoint we control: an in-process Kestrel server on a free loopback port speaking OpenAI's
/// <c>POST /v1/chat/completions</c>. Each request takes the next scripted reply (the last one repeats) and is recorded.
/// </summary>
public sealed class ChatCompletionsStub : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<Reply> script = new();
    private Reply last = Reply.Answer("ok");

    private ChatCompletionsStub(WebApplication app) => this.app = app;

    /// <summary>The base URL to give as NOORG_LLM_ENDPOINT (ends in /v1).</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>Every request that reached the stub, in order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    public sealed record Request(string Authorization, JsonNode Body);

    /// <summary>One scripted reply: a status, a body, and headers.</summary>
    public sealed record Reply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null)
    {
        /// <summary>A completion whose assistant message is <paramref name="content"/>, with the given usage.</summary>
        public static Reply Answer(string content, int promptTokens = 120, int completionTokens = 30) =>
            new(200, Completion(new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = null }, "stop", promptTokens, completionTokens));

        /// <summary>A refusal, as structured outputs return it: no content, a <c>refusal</c> text.</summary>
        public static Reply Refusal(string why) =>
            new(200, Completion(new JsonObject { ["role"] = "assistant", ["content"] = null, ["refusal"] = why }, "stop", 50, 10));

        public static Reply Error(int status, string message, IReadOnlyDictionary<string, string>? headers = null) =>
            new(status, new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "stub_error", ["code"] = null } }.ToJsonString(), headers);

        private static string Completion(JsonObject message, string finish, int promptTokens, int completionTokens) => new JsonObject
        {
            ["id"] = "chatcmpl-stub",
            ["object"] = "chat.completion",
            ["created"] = 1_767_225_600,
            ["model"] = "stub-model",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish, ["logprobs"] = null }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completionTokens, ["total_tokens"] = promptTokens + completionTokens },
        }.ToJsonString();
    }

    public static async Task<ChatCompletionsStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new ChatCompletionsStub(app);
        app.MapPost("/v1/chat/completions", stub.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        stub.Endpoint = $"{address.TrimEnd('/')}/v1";
        return stub;
    }

    /// <summary>Replies for the next requests, in order; the last one then answers every later request.</summary>
    public void Script(params Reply[] replies)
    {
        script.Clear();
        foreach (var reply in replies)
        {
            script.Enqueue(reply);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? new JsonObject();
        Requests.Enqueue(new Request(context.Request.Headers.Authorization.ToString(), body));
        if (script.TryDequeue(out var next))
        {
            last = next;
        }

        var reply = last;
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json";
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(reply.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Collects every log line (all levels) of the services it is added to.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{properties}] {exception}");
        }
    }
}
