using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed partial class OpenApiTests(EdgeFixture fx)
{
    // Routes that serve the documentation and operations surfaces themselves, not the API.
    // Routes that serve the documentation and operations surfaces themselves, not the API: the
    // document, the Scalar reference page and its assets, the Prometheus scrape, the dashboard.
    private static bool NotApi(string pattern) =>
        pattern is "/openapi/{documentName}.json" or "/metrics" or "/" || pattern.StartsWith("/docs", StringComparison.Ordinal) || pattern.StartsWith("/dashboard", StringComparison.Ordinal);

    private async Task<(OpenApiDocument Document, OpenApiDiagnostic Diagnostic)> LoadAsync()
    {
        var json = await fx.Anonymous.GetStringAsync("/openapi/v1.json");
        var result = OpenApiDocument.Parse(json, "json", new OpenApiReaderSettings());
        return (result.Document!, result.Diagnostic!);
    }

    [Fact]
    public async Task Document_IsValidOpenApi()
    {
        var (document, diagnostic) = await LoadAsync();
        Assert.Empty(diagnostic.Errors);
        Assert.Empty(document.Validate(ValidationRuleSet.GetDefaultRuleSet()) ?? []);
        Assert.Equal("ForgeOne HTTP API", document.Info.Title);
        Assert.True(document.Components!.SecuritySchemes!.ContainsKey("bearer"));
    }

    [Fact]
    public async Task Document_ListsEveryMappedRoute_AndNothingElse()
    {
        var (document, _) = await LoadAsync();
        var documented = document.Paths!
            .SelectMany(p => p.Value.Operations!.Keys.Select(m => $"{m.Method.ToUpperInvariant()} {p.Key}"))
            .Order(StringComparer.Ordinal).ToList();
        var mapped = fx.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !NotApi(Normalize(e.RoutePattern.RawText!)))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {Normalize(e.RoutePattern.RawText!)}"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(mapped.Count > 45, $"only {mapped.Count} routes found");
        Assert.Equal(mapped, documented);
    }

    [Fact]
    public async Task EveryOperation_DeclaresItsProblemResponsesWithASchema()
    {
        var (document, _) = await LoadAsync();
        foreach (var (path, item) in document.Paths!)
        {
            foreach (var (method, operation) in item.Operations!)
            {
                var where = $"{method} {path}";
                Assert.False(string.IsNullOrWhiteSpace(operation.Summary), where + " has no summary");
                if (!path.StartsWith("/v1", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var status in new[] { "400", "401", "403", "429", "503" })
                {
                    Assert.True(operation.Responses!.TryGetValue(status, out var response), $"{where} does not declare {status}");
                    Assert.NotNull(response.Content!["application/problem+json"].Schema);
                }

                Assert.NotEmpty(operation.Security!);
            }
        }

        var append = document.Paths["/v1/logs/{topic}/batch"].Operations![HttpMethod.Post];
        Assert.NotNull(append.RequestBody!.Content!["application/json"].Schema);
        Assert.Contains(append.Parameters!, p => p.Name == "Idempotency-Key" && p.In == ParameterLocation.Header);
        Assert.Contains("201", append.Responses!.Keys);
    }

    // Route patterns as OpenAPI writes them: no trailing slash, no constraints.
    private static string Normalize(string pattern)
    {
        var p = pattern.Length > 1 ? pattern.TrimEnd('/') : pattern;
        p = Constraint().Replace(p, "{$1}");
        return p.StartsWith('/') ? p : "/" + p;
    }

    [GeneratedRegex(@"\{([^}:=?]+)[^}]*\}")]
    private static partial Regex Constraint();
}
