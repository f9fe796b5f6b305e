using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoOrg.Cli.Bench;

/// <summary>
/// Task creation over the HTTP API: the same task as <see cref="CreationScenario"/>, posted to the silo's
/// <c>/v1/tasks</c> (the first NOORG_HTTP_URLS address, with the first API key when authentication is on). Its
/// throughput is reported as a ratio to the grain-call creation of the same run.
/// </summary>
internal sealed class HttpCreationScenario(BenchRun run) : BenchScenario, IDisposable
{
    // The API reads enums by name only (as it writes them).
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly ConcurrentQueue<string> created = new();
    private readonly HttpClient http = Client(run);

    public override string Name => "http-creation";

    public override string Measures => "POST /v1/tasks of a new task on the silo's HTTP port, until the 201 answer is read (the task is durable and indexed)";

    public override async Task<TimeSpan> RunOnceAsync(CancellationToken cancellationToken)
    {
        var spec = BenchTasks.Spec(run, run.Nobody);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.PostAsJsonAsync(new Uri("/v1/tasks", UriKind.Relative), spec, Json, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if ((int)response.StatusCode != 201)
        {
            throw new HttpRequestException($"POST /v1/tasks answered {(int)response.StatusCode}: {body}");
        }

        created.Enqueue(JsonNode.Parse(body)!["id"]!.GetValue<string>());
        return elapsed;
    }

    public override Task CleanUpAsync(CancellationToken cancellationToken) =>
        BenchTasks.CancelAsync(run, RegistrationScenario.Drain(created), cancellationToken);

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        http.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => http.Dispose();

    internal static HttpClient Client(BenchRun run)
    {
        var address = new UriBuilder(run.Settings.Http.UrlList[0]);
        if (address.Host is "0.0.0.0" or "*" or "+" or "[::]")
        {
            address.Host = "127.0.0.1"; // a listen-everywhere address: the bench runs next to the silo
        }

        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = address.Uri,
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (run.Settings.Security.RequireAuth && run.Settings.Security.ApiKeyList.Count > 0)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", run.Settings.Security.ApiKeyList[0]);
        }

        return client;
    }
}
