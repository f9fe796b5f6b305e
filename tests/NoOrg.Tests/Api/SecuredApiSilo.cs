using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Api;

/// <summary>
/// A real silo process with authentication required, a bootstrap admin key and a low failure limit. Callers can
/// come from different loopback addresses (127.0.0.x), so the per-address throttle of one test leaves others alone.
/// </summary>
public sealed class SecuredApiSilo : IAsyncLifetime
{
    public const int FailureLimit = 5;
    public static readonly string Bootstrap = new('b', 40);

    private readonly string data = Directory.CreateTempSubdirectory("noorg-api-sec-").FullName;
    private readonly Dictionary<string, HttpClient> clients = new(StringComparer.Ordinal);
    private SiloProcess? silo;

    public SiloProcess Process => silo!;

    public string DataDirectory => data;

    public const string Issuer = "https://issuer.noorg.test";
    public const string Audience = "noorg-tests";

    /// <summary>An HMAC secret the silo accepts tokens of.</summary>
    public string HmacKeyFile => Path.Combine(data, "keys", "hs1.key");

    /// <summary>The private half of an RSA key whose public half the silo accepts (both valid at once).</summary>
    public string RsaPrivateKeyFile => Path.Combine(data, "keys", "rs1-private.pem");

    /// <summary>A key the silo does not know.</summary>
    public string UnknownKeyFile => Path.Combine(data, "keys", "other.key");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(data, "keys"));
        await File.WriteAllTextAsync(HmacKeyFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        await File.WriteAllTextAsync(UnknownKeyFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            await File.WriteAllTextAsync(RsaPrivateKeyFile, rsa.ExportPkcs8PrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(data, "keys", "rs1.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        }

        silo = SiloProcess.Start(data, new Dictionary<string, string?>
        {
            ["NOORG_SECURITY_JWT_ISSUER"] = Issuer,
            ["NOORG_SECURITY_JWT_AUDIENCE"] = Audience,
            ["NOORG_SECURITY_JWT_KEY_FILES"] = $"{HmacKeyFile},{Path.Combine(data, "keys", "rs1.pem")}",
            ["NOORG_SECURITY_JWT_CLOCK_SKEW_SECONDS"] = "5",
            ["NOORG_DASHBOARD_ENABLED"] = "false",
            ["NOORG_SECURITY_REQUIRE_AUTH"] = "true",
            ["NOORG_SECURITY_API_KEYS"] = Bootstrap,
            ["NOORG_SECURITY_CLIENT_CREDENTIAL"] = Bootstrap, // for the CLI run with this environment (the silo does not read it)
            ["NOORG_SECURITY_API_KEY_PEPPER"] = new string('p', 40),
            ["NOORG_SECURITY_AUTH_FAILURE_LIMIT"] = FailureLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["NOORG_SECURITY_AUTH_FAILURE_WINDOW_SECONDS"] = "600",
        });
        await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        if (silo is not null)
        {
            await silo.DisposeAsync();
        }

        Directory.Delete(data, recursive: true);
    }

    /// <summary>An HTTP client whose connections leave from <paramref name="source"/> (a loopback address).</summary>
    public HttpClient From(string source)
    {
        lock (clients)
        {
            if (!clients.TryGetValue(source, out var client))
            {
                var handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (context, cancellationToken) =>
                    {
                        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        try
                        {
                            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                };
                client = new HttpClient(handler) { BaseAddress = silo!.Http, Timeout = TimeSpan.FromSeconds(60) };
                clients[source] = client;
            }

            return client;
        }
    }

    /// <summary>Sends a request with <paramref name="key"/> as a bearer token (none when null).</summary>
    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(
        string? key, HttpMethod method, string path, object? body = null, string source = "127.0.0.1")
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : ApiSilo.Json(body) };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var response = await From(source).SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    /// <summary>Runs <c>noorg</c> against this silo with <c>--json</c>; its exit code and parsed output.</summary>
    public Task<(int ExitCode, JsonElement Json, string Error)> CliAsync(params string[] arguments) => CliAsAsync(null, arguments);

    /// <summary>As <see cref="CliAsync(string[])"/>, presenting <paramref name="credential"/> on grain calls (empty: none) instead of the bootstrap key.</summary>
    public async Task<(int ExitCode, JsonElement Json, string Error)> CliAsAsync(string? credential, params string[] arguments)
    {
        var environment = new Dictionary<string, string?>(Process.Environment);
        if (credential is not null)
        {
            environment["NOORG_SECURITY_CLIENT_CREDENTIAL"] = credential;
        }

        var result = await ProcessRunner.RunAsync("noorg.dll", [.. arguments, "--json"], environment);
        // A command line that does not parse prints its help, not JSON.
        var output = result.StandardOutput.Trim();
        var json = output.StartsWith('{') || output.StartsWith('[') ? JsonDocument.Parse(output).RootElement.Clone() : default;
        return (result.ExitCode, json, result.StandardError);
    }

    /// <summary>A new stored key made with <c>noorg keys create</c>: its id and its secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string name, params string[] options)
    {
        var (exitCode, json, error) = await CliAsync(["keys", "create", "--name", name, .. options]);
        Assert.True(exitCode == 0, $"noorg keys create exited {exitCode}: {error}");
        return (json.GetProperty("key").GetProperty("id").GetString()!, json.GetProperty("secret").GetString()!);
    }
}
