using System.Text.Json.Nodes;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Api;

/// <summary>The OpenAPI document the silo serves is the one committed in docs/api/, and every operation has an example.</summary>
[Collection(ApiCollection.Name)]
public sealed class ApiDocumentTests(ApiSilo silo)
{
    public const string CommittedPath = "docs/api/openapi.v1.json";

    [Fact]
    public async Task The_served_openapi_document_is_the_committed_one()
    {
        var served = await silo.GetJsonAsync("/openapi/v1.json");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryPaths.File(CommittedPath)));
        if (Environment.GetEnvironmentVariable("NOORG_TEST_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(RepositoryPaths.File(CommittedPath), served.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
            return;
        }

        Assert.True(JsonNode.DeepEquals(served, committed),
            $"{CommittedPath} is stale: regenerate it with NOORG_TEST_UPDATE_OPENAPI=1 dotnet test tests/NoOrg.Tests --filter FullyQualifiedName~ApiDocumentTests (see docs/api.md)");
    }

    [Fact]
    public async Task Every_operation_has_an_example_and_the_reference_page_is_served()
    {
        var document = await silo.GetJsonAsync("/openapi/v1.json");
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Name: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!))).ToArray();
        Assert.True(operations.Length >= 40, $"{operations.Length} operations");
        Assert.All(operations, o => Assert.True(o.Name.Contains(" /v1/", StringComparison.Ordinal), o.Name));
        var withoutExample = operations.Where(o => !HasExample(o.Operation)).Select(o => o.Name).ToArray();
        Assert.True(withoutExample.Length == 0, "no example: " + string.Join(", ", withoutExample));

        var page = await silo.Http.GetStringAsync(new Uri("/scalar/", UriKind.Relative));
        Assert.Contains("openapi/v1.json", page, StringComparison.Ordinal);
    }

    private static bool HasExample(JsonNode operation) =>
        Contents(operation["requestBody"]).Concat((operation["responses"]?.AsObject() ?? []).SelectMany(r => Contents(r.Value)))
            .Any(media => media?["example"] is not null);

    private static IEnumerable<JsonNode?> Contents(JsonNode? holder) =>
        holder?["content"]?.AsObject().Select(c => c.Value) ?? [];
}
