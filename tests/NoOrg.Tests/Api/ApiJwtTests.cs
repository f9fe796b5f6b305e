using System.Buffers.Text;
using System.Text;
using System.Text.Json.Nodes;
using NoOrg.Configuration.Security;

namespace NoOrg.Tests.Api;

/// <summary>
/// JWT bearer tokens on a real silo: two signing keys valid at once (HMAC and RSA), roles from the token's claims,
/// and every bad token refused with a 401 problem document that says why, and no change made.
/// </summary>
public sealed class ApiJwtTests(SecuredApiSilo silo) : IClassFixture<SecuredApiSilo>
{
    [Fact]
    public async Task A_token_from_noorg_auth_token_reads_and_is_held_to_its_role()
    {
        var (exitCode, minted, error) = await silo.CliAsync("auth", "token", "--key", silo.HmacKeyFile, "--subject", "alice", "--role", "reader",
            "--issuer", SecuredApiSilo.Issuer, "--audience", SecuredApiSilo.Audience, "--lifetime", "00:10:00");
        Assert.True(exitCode == 0, error);
        var token = minted.GetProperty("token").GetString()!;

        Assert.Equal(200, (await silo.SendAsync(token, HttpMethod.Get, "/v1/tasks")).Status);
        var (status, problem, _) = await silo.SendAsync(token, HttpMethod.Post, "/v1/tasks", new { name = "n", type = "t" });
        Assert.Equal(403, status);
        Assert.Contains("needs the operator role", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_signed_with_the_second_key_changes_and_is_recorded_as_its_subject()
    {
        var token = Mint(silo.RsaPrivateKeyFile, roles: ["operator"], subject: "deploy-bot");

        var (status, task, _) = await silo.SendAsync(token, HttpMethod.Post, "/v1/tasks", new { name = "n", type = "nobody.jwt" });

        Assert.True(status == 201, task?.ToJsonString());
        var history = (await silo.SendAsync(token, HttpMethod.Get, $"/v1/tasks/{task!["id"]}/history")).Body!;
        Assert.Contains("\"actor\":\"http:jwt:deploy-bot\"", history.ToJsonString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", "the token has expired" },
        { "not-yet-valid", "the token is not valid yet" },
        { "wrong-audience", "the token is for another audience" },
        { "wrong-issuer", "the token is from another issuer" },
        { "tampered", "signature does not verify" },
        { "unknown-key", "signature does not verify" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_refused_with_401_and_no_change(string kind, string says)
    {
        var now = DateTime.UtcNow;
        var token = kind switch
        {
            "expired" => Mint(silo.HmacKeyFile, notBefore: now.AddHours(-2), expires: now.AddMinutes(-1)),
            "not-yet-valid" => Mint(silo.HmacKeyFile, notBefore: now.AddMinutes(10), expires: now.AddHours(1)),
            "wrong-audience" => Mint(silo.HmacKeyFile, audience: "someone-else"),
            "wrong-issuer" => Mint(silo.HmacKeyFile, issuer: "https://evil.example"),
            "tampered" => Tamper(Mint(silo.HmacKeyFile, roles: ["reader"])),
            _ => Mint(silo.UnknownKeyFile),
        };
        var type = "nobody.jwt." + kind + "." + Guid.NewGuid().ToString("N");

        var (status, problem, response) = await silo.SendAsync(token, HttpMethod.Post, "/v1/tasks", new { name = "n", type }, source: "127.0.0." + (30 + BadTokens.Select(r => (string)r[0]).ToList().IndexOf(kind)));

        Assert.True(status == 401, $"{kind}: {status} {problem?.ToJsonString()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("unauthorized", problem!["code"]!.GetValue<string>());
        Assert.Contains(says, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, (await silo.SendAsync(SecuredApiSilo.Bootstrap, HttpMethod.Get, $"/v1/tasks?type={type}")).Body!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_agent_token_acts_only_for_its_agents()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var registration = new { name = "w", type = "http", description = "", capabilities = new[] { "none." + run }, maxConcurrentTasks = 1, metadata = new { } };
        Assert.Equal(200, (await silo.SendAsync(SecuredApiSilo.Bootstrap, HttpMethod.Put, $"/v1/agents/mine-{run}", registration)).Status);
        Assert.Equal(200, (await silo.SendAsync(SecuredApiSilo.Bootstrap, HttpMethod.Put, $"/v1/agents/theirs-{run}", registration)).Status);
        var token = Mint(silo.HmacKeyFile, roles: ["agent"], agents: [$"mine-{run}"]);

        Assert.Equal(200, (await silo.SendAsync(token, HttpMethod.Post, $"/v1/agents/mine-{run}/heartbeat")).Status);
        var (status, problem, _) = await silo.SendAsync(token, HttpMethod.Post, $"/v1/agents/theirs-{run}/drain", new { reason = "x" });

        Assert.Equal(403, status);
        Assert.Contains($"the request is for 'theirs-{run}'", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        // Not drained (dispatch may have made it busy with another test's task).
        Assert.Contains((await silo.SendAsync(SecuredApiSilo.Bootstrap, HttpMethod.Get, $"/v1/agents/theirs-{run}")).Body!["status"]!.GetValue<string>(), new[] { "available", "busy" });
    }

    [Fact]
    public async Task A_key_file_that_changes_is_read_again_without_a_restart()
    {
        var before = Mint(silo.HmacKeyFile, roles: ["reader"]);
        Assert.Equal(200, (await silo.SendAsync(before, HttpMethod.Get, "/v1/tasks")).Status);

        await File.WriteAllTextAsync(silo.HmacKeyFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        var after = Mint(silo.HmacKeyFile, roles: ["reader"]);

        Assert.Equal(200, (await silo.SendAsync(after, HttpMethod.Get, "/v1/tasks")).Status);
        var (status, problem, _) = await silo.SendAsync(before, HttpMethod.Get, "/v1/tasks", source: "127.0.0.40");
        Assert.Equal(401, status);
        Assert.Contains("signature does not verify", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string Mint(string keyFile, string[]? roles = null, string[]? agents = null, string subject = "tester",
        string issuer = SecuredApiSilo.Issuer, string audience = SecuredApiSilo.Audience, DateTime? notBefore = null, DateTime? expires = null) =>
        JwtKeyFiles.Mint(JwtKeyFiles.Load(keyFile), issuer, audience, subject, roles ?? ["operator"], agents ?? [],
            notBefore ?? DateTime.UtcNow, expires ?? DateTime.UtcNow.AddMinutes(10));

    /// <summary>The same token with its payload's roles raised to admin, the signature left as it was.</summary>
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
        payload["roles"] = new JsonArray("admin");
        parts[1] = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        return string.Join('.', parts);
    }
}
