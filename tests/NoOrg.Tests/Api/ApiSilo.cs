using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Api;

/// <summary>One real silo process (embedded SQLite) that every API test of the collection calls over HTTP only.</summary>
public sealed class ApiSilo : IAsyncLifetime
{
    private readonly string data = Directory.CreateTempSubdirectory("noorg-api-").FullName;
    private SiloProcess? silo;

    public HttpClient Http { get; private set; } = null!;

    public SiloProcess Process => silo!;

    public async Task InitializeAsync()
    {
        silo = SiloProcess.Start(data, new Dictionary<string, string?> { ["NOORG_DASHBOARD_ENABLED"] = "false" });
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        Http = new HttpClient { BaseAddress = silo.Http, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (silo is not null)
        {
            await silo.DisposeAsync();
        }

        Directory.Delete(data, recursive: true);
    }

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static StringContent Json(object body) => Json(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, HttpContent? content = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        // A large body waits for the server's go-ahead, so a 413 sent before reading it arrives instead of a broken pipe.
        request.Headers.ExpectContinue = content?.Headers.ContentLength > 64 * 1024;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public async Task<JsonNode> GetJsonAsync(string path)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body}");
        return body!;
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Http.PostAsJsonAsync(new Uri(path, UriKind.Relative), body, JsonSerializerOptions.Web);
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiSilo>
{
    public const string Name = "api silo";
}
