using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace ForgeOne.Edge.Tests;

/// <summary>What every route does with a body it cannot take, and with a path or method that does not exist.</summary>
[Collection(EdgeCollection.Name)]
public sealed class BoundaryTests(EdgeFixture fx)
{
    [Fact]
    public async Task MalformedJson_IsA400ProblemNamingWhere()
    {
        var problem = await (await fx.Admin.PostJsonAsync("/v1/logs/b.topic", """{"severity":"info","message":""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.malformed_body");
        Assert.Equal("/v1/logs/b.topic", problem.Instance);
        Assert.Contains("line 1", problem.Detail, StringComparison.Ordinal);
        await (await fx.Admin.PostJsonAsync("/v1/logs/b.topic/batch", """{"severity":"info","message":"an object, not an array"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.malformed_body");
        await (await fx.Admin.PostJsonAsync("/v1/logs/b.topic", "")).ProblemAsync(HttpStatusCode.BadRequest, "validation.malformed_body");
    }

    [Fact]
    public async Task OversizedBody_IsA413_WhetherDeclaredOrChunked()
    {
        // Just over the route's 256 KiB: an HTTP/1.1 server that refuses a body early closes the
        // connection, and a client still sending a large remainder may see the reset before the
        // answer; a small overage is sent whole before the server answers.
        var big = "[" + string.Join(',', Enumerable.Repeat("""{"severity":"info","message":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""", 2952)) + "]";
        Assert.InRange(Encoding.UTF8.GetByteCount(big), (256 * 1024) + 1, (256 * 1024) + 4096);
        await (await fx.Admin.PostJsonAsync("/v1/logs/b.topic/batch", big)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "validation.body_too_large");

        // No Content-Length: Kestrel cuts the body at the route's limit while it is read.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/logs/b.topic/batch") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await (await fx.Admin.SendAsync(request)).ProblemAsync(HttpStatusCode.RequestEntityTooLarge, "validation.body_too_large");
        Assert.Equal(0, (await (await fx.Admin.GetAsync("/v1/logs/b.topic/count")).ReadAsync<Common.Api.LogCount>()).Count);
    }

    [Fact]
    public async Task WrongContentType_IsA415Problem()
    {
        await (await fx.Admin.PostAsync("/v1/logs/b.topic", new StringContent("""{"severity":"info","message":"x"}""", Encoding.UTF8, "text/plain"))).ProblemAsync(HttpStatusCode.UnsupportedMediaType, "validation.unsupported_media_type");
        await (await fx.Admin.PostAsync("/v1/bulk/logs", Http.Json("""{"topic":"b.topic","severity":"info","message":"x"}"""))).ProblemAsync(HttpStatusCode.UnsupportedMediaType, "validation.unsupported_media_type");
    }

    [Fact]
    public async Task UnknownRouteAndMethod_AreProblems()
    {
        await (await fx.Admin.GetAsync("/v1/nothing-here")).ProblemAsync(HttpStatusCode.NotFound, "validation.unknown_route");
        await (await fx.Admin.DeleteAsync("/v1/logs/b.topic/count")).ProblemAsync(HttpStatusCode.MethodNotAllowed, "validation.method_not_allowed");
    }

    [Fact]
    public async Task Health_IsUpAndReady_WithEveryCheckNamed()
    {
        Assert.Equal("ok\n", await fx.Anonymous.GetStringAsync("/healthz"));
        var ready = await (await fx.Anonymous.GetAsync("/readyz")).ReadAsync<Common.Api.Readiness>();
        Assert.True(ready.Ready);
        Assert.Equal(["cluster", "region:blobs", "region:events", "region:logs", "region:system", "system-shard"], ready.Checks.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Readiness_IsA503_UntilTheNodeHasJoined()
    {
        await using var server = Edge.EdgeServer.Create(new Cluster.Hosting.EdgeOptions { Port = 0 }, new EdgeCluster(TimeSpan.FromSeconds(5)));
        await server.StartAsync();
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var ready = await (await client.GetAsync("/readyz")).ReadAsync<Common.Api.Readiness>(HttpStatusCode.ServiceUnavailable);
        Assert.False(ready.Ready);
        client.DefaultRequestHeaders.Add("X-Api-Key", fx.AdminKey);
        await (await client.GetAsync("/v1/logs/b.topic")).ProblemAsync(HttpStatusCode.ServiceUnavailable, "cluster.unavailable");
    }
}
