using System.Net;
using System.Text;
using System.Text.Json;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class LogApiTests(EdgeFixture fx)
{
    [Fact]
    public async Task AppendGetQueryCount_RoundTripAnEntryThroughTheCluster()
    {
        var topic = Http.Unique("logs.http");
        var appended = await (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}", """{"severity":"warning","message":"disk at 91%","metadata":{"host":"db-1"}}""")).ReadAsync<LogAppended>(HttpStatusCode.Created);
        Assert.Equal(topic, appended.Topic);

        var entry = await (await fx.Admin.GetAsync($"/v1/log-entries/{appended.Id}")).ReadAsync<LogEntryView>();
        Assert.Equal(("disk at 91%", Severity.Warning, "db-1", topic), (entry.Message, entry.Severity, entry.Metadata["host"], entry.Topic));
        Assert.Equal(64, entry.ContentHash.Length);

        var batch = await (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/batch", """[{"severity":"info","message":"a"},{"severity":"error","message":"b"},{"severity":"debug","message":"c"}]""")).ReadAsync<LogBatchAppended>(HttpStatusCode.Created);
        Assert.Equal(3, batch.Ids.Length);

        var page1 = await (await fx.Admin.GetAsync($"/v1/logs/{topic}?limit=2")).ReadAsync<LogPage>();
        Assert.Equal(["disk at 91%", "a"], page1.Entries.Select(e => e.Message));
        Assert.NotNull(page1.Continuation);
        var page2 = await (await fx.Admin.GetAsync($"/v1/logs/{topic}?limit=2&continuation={Uri.EscapeDataString(page1.Continuation!)}")).ReadAsync<LogPage>();
        Assert.Equal(["b", "c"], page2.Entries.Select(e => e.Message));

        var severe = await (await fx.Admin.GetAsync($"/v1/logs/{topic}?minSeverity=warning")).ReadAsync<LogPage>();
        Assert.Equal(["disk at 91%", "b"], severe.Entries.Select(e => e.Message));
        Assert.Null(severe.Continuation);

        var count = await (await fx.Admin.GetAsync($"/v1/logs/{topic}/count")).ReadAsync<LogCount>();
        Assert.Equal(4, count.Count);
    }

    [Fact]
    public async Task Bulk_AppendsAcrossTopicsWithOneResultPerLine()
    {
        var a = Http.Unique("bulk.a");
        var b = Http.Unique("bulk.b");
        var body = new StringBuilder()
            .Append($$"""{"topic":"{{a}}","severity":"info","message":"one"}""").Append('\n')
            .Append($$"""{"topic":"{{b}}","severity":"info","message":"two"}""").Append('\n')
            .Append("\n")
            .Append("{not json}\n")
            .Append($$"""{"topic":"bad topic!","severity":"info","message":"x"}""").Append('\n')
            .Append($$"""{"topic":"{{a}}","severity":"error","message":"three"}""")
            .ToString();
        var result = await (await fx.Admin.PostAsync("/v1/bulk/logs", Http.Ndjson(body))).ReadAsync<BulkResult>();

        Assert.True(result.Errors);
        Assert.Equal((3, 2), (result.Accepted, result.Failed));
        Assert.Equal([201, 201, 400, 400, 201], result.Items.Select(i => i.Status));
        Assert.Equal("validation.malformed_body", result.Items[2].Error!.Code);
        Assert.Equal("validation.invalid_topic", result.Items[3].Error!.Code);
        var first = await (await fx.Admin.GetAsync($"/v1/log-entries/{result.Items[0].Id}")).ReadAsync<LogEntryView>();
        var last = await (await fx.Admin.GetAsync($"/v1/log-entries/{result.Items[4].Id}")).ReadAsync<LogEntryView>();
        Assert.Equal(("one", "three"), (first.Message, last.Message));
        Assert.Equal(2, (await (await fx.Admin.GetAsync($"/v1/logs/{a}/count")).ReadAsync<LogCount>()).Count);
        Assert.Equal(1, (await (await fx.Admin.GetAsync($"/v1/logs/{b}/count")).ReadAsync<LogCount>()).Count);
    }

    [Fact]
    public async Task Checkpoints_CreateListAndReplayAsNdjson()
    {
        var topic = Http.Unique("replay");
        var before = await (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/batch", """[{"severity":"info","message":"old-1"},{"severity":"info","message":"old-2"}]""")).ReadAsync<LogBatchAppended>(HttpStatusCode.Created);
        var checkpoint = await (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/checkpoints", """{"name":"nightly"}""")).ReadAsync<CheckpointView>(HttpStatusCode.Created);
        Assert.Equal((1, before.Ids[1]), (checkpoint.Version, checkpoint.Position));
        await (await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/batch", """[{"severity":"info","message":"new-1"},{"severity":"info","message":"new-2"}]""")).ReadAsync<LogBatchAppended>(HttpStatusCode.Created);

        var list = await (await fx.Admin.GetAsync($"/v1/logs/{topic}/checkpoints")).ReadAsync<CheckpointList>();
        Assert.Equal(["nightly"], list.Checkpoints.Select(c => c.Name));

        using var replay = await fx.Admin.GetAsync($"/v1/logs/{topic}/replay?checkpoint=nightly");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("application/x-ndjson", replay.Content.Headers.ContentType?.MediaType);
        var lines = (await replay.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["new-1", "new-2"], lines.Select(l => JsonSerializer.Deserialize(l, ApiJsonContext.Default.LogEntryView)!.Message));

        await (await fx.Admin.GetAsync($"/v1/logs/{topic}/replay?checkpoint=missing")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
    }

    [Fact]
    public async Task GetById_AnswersTypedProblemsForABadAndAnUnknownId()
    {
        await (await fx.Admin.GetAsync("/v1/log-entries/not-an-id")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_id");
        await (await fx.Admin.GetAsync("/v1/log-entries/0000000000001000")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
    }

    [Fact]
    public async Task Append_RefusesInvalidFieldsWithTheirCodes()
    {
        await (await fx.Admin.PostJsonAsync("/v1/logs/bad..topic", """{"severity":"info","message":"x"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_topic");
        await (await fx.Admin.PostJsonAsync("/v1/logs/ok.topic", """{"severity":"info","message":"x","timestamp":"1970-01-02T00:00:00Z"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_timestamp");
        await (await fx.Admin.PostJsonAsync("/v1/logs/ok.topic", """{"severity":"loud","message":"x"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.malformed_body");
        await (await fx.Admin.PostJsonAsync("/v1/logs/ok.topic", """{"severity":42,"message":"x"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/logs/ok.topic?minSeverity=7")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/logs/ok.topic?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/logs/ok.topic?limit=0")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
        await (await fx.Admin.GetAsync("/v1/logs/ok.topic?from=yesterday")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }
}
