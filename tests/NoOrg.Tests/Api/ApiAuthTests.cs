using System.Net;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Api;

/// <summary>With NOORG_SECURITY_REQUIRE_AUTH on, the API is exactly as closed as the dashboard: the same API keys.</summary>
public sealed class ApiAuthTests
{
    [Fact]
    public async Task The_api_and_its_document_require_an_api_key_when_authentication_is_on_and_health_does_not()
    {
        var data = Directory.CreateTempSubdirectory("noorg-api-auth-").FullName;
        try
        {
            var key = new string('k', 40);
            await using var silo = SiloProcess.Start(data, new Dictionary<string, string?>
            {
                ["NOORG_SECURITY_REQUIRE_AUTH"] = "true",
                ["NOORG_SECURITY_API_KEYS"] = key,
                ["NOORG_DASHBOARD_ENABLED"] = "false",
            });
            await silo.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            using var http = new HttpClient { BaseAddress = silo.Http };

            foreach (var path in new[] { "/v1/tasks", "/v1/agents", "/v1/sagas", "/v1/webhooks", "/v1/outbox", "/v1/limits", "/openapi/v1.json" })
            {
                using var anonymous = await http.GetAsync(new Uri(path, UriKind.Relative));
                Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{path} without a key answered {anonymous.StatusCode}");
            }

            using var refused = await http.GetAsync(new Uri("/v1/tasks", UriKind.Relative));
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("\"code\":\"unauthorized\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.True(refused.Headers.Contains("X-Request-Id"));

            using var post = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/tasks", UriKind.Relative)) { Content = ApiSilo.Json(new { name = "n", type = "t" }) };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(post)).StatusCode);

            using var bearer = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/tasks", UriKind.Relative));
            bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(bearer)).StatusCode);

            using var created = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/tasks", UriKind.Relative)) { Content = ApiSilo.Json(new { name = "n", type = "t" }) };
            created.Headers.Add("X-Api-Key", key);
            using var createdResponse = await http.SendAsync(created);
            Assert.Equal(HttpStatusCode.Created, createdResponse.StatusCode);
            Assert.Contains("\"actor\":\"http:api-key\"", await (await http.SendAsync(WithKey(
                $"/v1/tasks/{System.Text.Json.Nodes.JsonNode.Parse(await createdResponse.Content.ReadAsStringAsync())!["id"]}/history", key))).Content.ReadAsStringAsync(), StringComparison.Ordinal);

            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static HttpRequestMessage WithKey(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Api-Key", key);
        return request;
    }
}
