using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NoOrg.Client.Ai;
using NoOrg.Client.Tasks;
using NoOrg.Client.Workers;
using NoOrg.Configuration;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Tasks;
using NoOrg.Tests.Cluster;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Ai;

/// <summary>An AI worker registered with AddNoOrgAiWorker takes tasks from a real two-silo cluster and completes them.</summary>
public abstract class AiWorkerClusterTests(ClusterFixture fixture)
{
    [SkippableFact]
    public async Task An_offline_ai_worker_completes_tasks_with_the_same_answer_usage_and_cost_every_time()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"ai-offline-{Guid.NewGuid():N}";
        var settings = AiTesting.Settings(("NOORG_LLM_INPUT_PRICE_PER_1K", "0.25"), ("NOORG_LLM_OUTPUT_PRICE_PER_1K", "1"));
        await using var worker = await AiWorkerHost.StartAsync(fixture.Client, settings, capability);

        var first = await RunAsync(capability, AiTesting.Ticket);
        var second = await RunAsync(capability, AiTesting.Ticket);

        Assert.Equal(TaskState.Completed, first.State);
        var result = JsonNode.Parse(first.ResultJson!)!;
        Assert.Equal(first.ResultJson, second.ResultJson); // deterministic: same input, same result
        Assert.Empty(StructuredOutput.Parse("classify", AiTesting.ClassifySchema).Output!.Check(System.Text.Json.JsonDocument.Parse(result["output"]!.ToJsonString()).RootElement));
        Assert.Equal("offline", (string?)result["provider"]);
        Assert.Equal("offline", (string?)result["model"]);
        var input = (long)result["usage"]!["inputTokens"]!;
        var output = (long)result["usage"]!["outputTokens"]!;
        Assert.True(input > 0 && output > 0, $"usage {input}/{output}");
        Assert.Equal((input * 0.25m + output * 1m) / 1000m, (decimal)result["cost"]!["amount"]!);
        Assert.Equal("USD", (string?)result["cost"]!["currency"]);
        Assert.Equal(2m * (decimal)result["cost"]!["amount"]!, worker.Services.GetRequiredService<LlmConnection>().Budget.Spent);
    }

    [SkippableFact]
    public async Task A_run_with_an_api_key_configured_never_logs_it_nor_stores_it_on_a_task()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var capability = $"ai-key-{Guid.NewGuid():N}";
        await using var stub = await ChatCompletionsStub.StartAsync();
        await using var worker = await AiWorkerHost.StartAsync(fixture.Client, AiTesting.OpenAiAt(stub), capability);

        // A success, a 429 retried, and a provider error whose body echoes the key, as OpenAI's 401 does.
        stub.Script(
            ChatCompletionsStub.Reply.Error(429, "Rate limit reached", new Dictionary<string, string> { ["Retry-After"] = "0" }),
            ChatCompletionsStub.Reply.Answer("""{"category":"bug","confidence":0.75,"summary":"crash"}"""));
        var completed = await RunAsync(capability, AiTesting.Ticket);
        stub.Script(ChatCompletionsStub.Reply.Error(401, $"Incorrect API key provided: {AiTesting.ApiKey}. You can find your API key in your account."));
        var failed = await RunAsync(capability, AiTesting.Ticket, maxAttempts: 1);

        Assert.Equal(TaskState.Completed, completed.State);
        Assert.Equal(0.105m, (decimal)JsonNode.Parse(completed.ResultJson!)!["cost"]!["amount"]!); // 120 * 0.5 / 1000 + 30 * 1.5 / 1000
        Assert.Equal(TaskState.Failed, failed.State);
        Assert.Contains("LlmException: openai answered HTTP 401", failed.Error, StringComparison.Ordinal);
        Assert.Contains("***", failed.Error, StringComparison.Ordinal);
        Assert.All(stub.Requests, r => Assert.Equal($"Bearer {AiTesting.ApiKey}", r.Authorization)); // the key was in use

        var history = await fixture.Client.GetGrain<ITaskGrain>(failed.Id).GetHistoryAsync(0, 100);
        var lines = worker.Logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("used 120 input and 30 output tokens", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("HTTP 401", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(AiTesting.ApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(history.Items, e => (e.Reason ?? "").Contains(AiTesting.ApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(AiTesting.ApiKey, failed.Error!, StringComparison.Ordinal);
    }

    private async Task<TaskSnapshot> RunAsync(string capability, string input, int maxAttempts = 3)
    {
        var created = await fixture.Client.CreateTaskAsync(
            new TaskSpec("sort a ticket", "classify", InputJson: input, RequiredCapabilities: [capability], MaxAttempts: maxAttempts), "test");
        return (await Eventually.ReturnsAsync(() => fixture.Client.GetGrain<ITaskGrain>(created.Id).GetAsync(), t => t?.IsTerminal == true,
            TimeSpan.FromSeconds(60), $"task {created.Id} to finish"))!;
    }
}

/// <summary>A worker process as an app builds it (AddNoOrgAiWorker), over a test cluster's client, with its logs captured.</summary>
internal sealed class AiWorkerHost : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();

    private AiWorkerHost(ServiceProvider services, CapturingLoggerProvider logs)
    {
        Services = services;
        Logs = logs;
    }

    public ServiceProvider Services { get; }

    public CapturingLoggerProvider Logs { get; }

    public static async Task<AiWorkerHost> StartAsync(IClusterClient client, NoOrgSettings settings, string capability)
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddSingleton(client)
            .AddSingleton(settings)
            .AddNoOrgAiWorker(
                worker =>
                {
                    worker.AgentId = $"{capability}-agent";
                    worker.Registration = new AgentRegistration($"ai {capability}", "ai-worker", "sorts tickets", [capability], 2, new Dictionary<string, string>());
                    worker.HeartbeatInterval = TimeSpan.FromSeconds(1);
                },
                ai => ai.Add("classify", new AiInstruction("Classify this ticket from {{input.customer}}: {{input.text}}", AiTesting.ClassifySchema)))
            .BuildServiceProvider();
        var host = new AiWorkerHost(services, logs);
        await services.GetRequiredService<AgentWorkerService>().StartAsync(host.stop.Token);
        await Eventually.ReturnsAsync(() => client.GetGrain<IAgentGrain>($"{capability}-agent").GetAsync(), a => a is not null,
            TimeSpan.FromSeconds(30), "the AI agent to register");
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await Services.GetRequiredService<AgentWorkerService>().StopAsync(CancellationToken.None);
        await Services.DisposeAsync();
        stop.Dispose();
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteAiWorkerClusterTests(SqliteClusterFixture fixture) : AiWorkerClusterTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresAiWorkerClusterTests(PostgresClusterFixture fixture) : AiWorkerClusterTests(fixture);
