using System.Net;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class IdempotencyTests(EdgeFixture fx)
{
    private static HttpRequestMessage Post(string path, string json, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Http.Json(json) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task Retry_WithTheSameKeyAndBody_ReturnsTheOriginalIdsAndWritesOnce()
    {
        var topic = Http.Unique("idem.logs");
        var key = Guid.NewGuid().ToString();
        const string body = """[{"severity":"info","message":"charge 42"},{"severity":"info","message":"charge 43"}]""";
        var first = await fx.Admin.SendAsync(Post($"/v1/logs/{topic}/batch", body, key));
        var original = await first.ReadAsync<LogBatchAppended>(HttpStatusCode.Created);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        var retry = await fx.Admin.SendAsync(Post($"/v1/logs/{topic}/batch", body, key));
        var replayed = await retry.ReadAsync<LogBatchAppended>(HttpStatusCode.Created);
        Assert.Equal(original.Ids, replayed.Ids);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(2, (await (await fx.Admin.GetAsync($"/v1/logs/{topic}/count")).ReadAsync<LogCount>()).Count);

        // Same key, another body: refused, nothing written.
        await (await fx.Admin.SendAsync(Post($"/v1/logs/{topic}/batch", """[{"severity":"info","message":"charge 44"}]""", key))).ProblemAsync(HttpStatusCode.UnprocessableEntity, "request.key_reused");
        Assert.Equal(2, (await (await fx.Admin.GetAsync($"/v1/logs/{topic}/count")).ReadAsync<LogCount>()).Count);

        // The key is the caller's: another principal's identical request is its own.
        using var other = fx.Client(fx.Jwt("svc-writer", ["writer"]));
        var theirs = await (await other.SendAsync(Post($"/v1/logs/{topic}/batch", body, key))).ReadAsync<LogBatchAppended>(HttpStatusCode.Created);
        Assert.NotEqual(original.Ids, theirs.Ids);
    }

    [Fact]
    public async Task Retry_OfAPublish_AndOfABulkAppend_WritesOnce()
    {
        var topic = Http.Unique("idem.events");
        await (await fx.Admin.PostJsonAsync("/v1/event-topics", $$"""{"name":"{{topic}}"}""")).ReadAsync<TopicView>(HttpStatusCode.Created);
        var key = Guid.NewGuid().ToString();
        var a = await (await fx.Admin.SendAsync(Post($"/v1/events/{topic}", """{"payload":"AQID"}""", key))).ReadAsync<EventPublished>(HttpStatusCode.Created);
        var b = await (await fx.Admin.SendAsync(Post($"/v1/events/{topic}", """{"payload":"AQID"}""", key))).ReadAsync<EventPublished>(HttpStatusCode.Created);
        Assert.Equal(a.Id, b.Id);
        Assert.Single((await (await fx.Admin.GetAsync($"/v1/events/{topic}")).ReadAsync<EventPage>()).Events);

        var logTopic = Http.Unique("idem.bulk");
        var bulk = $$"""{"topic":"{{logTopic}}","severity":"info","message":"x"}""" + "\n" + $$"""{"topic":"{{logTopic}}.other","severity":"info","message":"y"}""";
        HttpRequestMessage BulkPost()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/bulk/logs") { Content = Http.Ndjson(bulk) };
            request.Headers.Add("Idempotency-Key", key);
            return request;
        }

        var once = await (await fx.Admin.SendAsync(BulkPost())).ReadAsync<BulkResult>();
        var twice = await (await fx.Admin.SendAsync(BulkPost())).ReadAsync<BulkResult>();
        Assert.Equal(once.Items.Select(i => i.Id), twice.Items.Select(i => i.Id));
        Assert.Equal(1, (await (await fx.Admin.GetAsync($"/v1/logs/{logTopic}/count")).ReadAsync<LogCount>()).Count);
    }

    [Fact]
    public async Task MalformedKey_Is400()
    {
        await (await fx.Admin.SendAsync(Post("/v1/logs/idem.bad", """{"severity":"info","message":"x"}""", new string('k', 201)))).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }
}
