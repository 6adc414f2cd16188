using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ForgeOne.Edge;

/// <summary>
/// The dashboard: static HTML + JS embedded in this assembly (no build step), served at
/// <c>/dashboard</c>. The page itself is public; everything it shows it fetches from <c>/v1</c>
/// with the API key the operator enters (kept in the tab's session storage only).
/// </summary>
internal static class Dashboard
{
    private static readonly Dictionary<string, (byte[] Content, string Type)> Files = Load();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/dashboard/")).ExcludeFromDescription();
        app.MapGet("/dashboard/{*file}", (string? file) =>
            Files.TryGetValue(string.IsNullOrEmpty(file) ? "index.html" : file, out var f)
                ? Results.Bytes(f.Content, f.Type)
                : Results.NotFound())
            .ExcludeFromDescription();
    }

    private static Dictionary<string, (byte[] Content, string Type)> Load()
    {
        var assembly = typeof(Dashboard).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var file = name["dashboard/".Length..];
            var type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            files[file] = (copy.ToArray(), type);
        }

        return files;
    }
}
