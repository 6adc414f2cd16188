using System.Net;
using System.Text.RegularExpressions;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed partial class MetricsTests(EdgeFixture fx)
{
    [Fact]
    public async Task Metrics_ExposeRequestsIngestAndGroupCommits_InPrometheusFormat()
    {
        var topic = Http.Unique("metrics");
        Assert.Equal(HttpStatusCode.Created, (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/batch", """[{"severity":"info","message":"12345"},{"severity":"info","message":"678"}]""")).StatusCode);
        await fx.Admin.GetAsync("/v1/log-entries/zzz");

        // The exporter caches a scrape briefly; the counters only grow, so a later scrape shows at least this.
        var text = await fx.Anonymous.GetStringAsync("/metrics");
        Assert.True(Value(text, "forgeone_ingest_entries_total") >= 2, text);
        Assert.True(Value(text, "forgeone_ingest_bytes_total") >= 8);
        Assert.Matches(RequestCounter(), text);
        Assert.Contains("forgeone_shard_commit_batch_size_bucket{", text, StringComparison.Ordinal);
        Assert.Contains("forgeone_shard_commit_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    private static double Value(string text, string name)
    {
        var line = text.Split('\n').First(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    // Requests by route and status: ASP.NET Core's own duration histogram, labelled.
    [GeneratedRegex("http_server_request_duration_seconds_count\\{[^}]*http_response_status_code=\"400\"[^}]*http_route=\"/v1/log-entries/\\{id\\}\"")]
    private static partial Regex RequestCounter();
}
