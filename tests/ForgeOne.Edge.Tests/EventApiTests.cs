using System.Net;
using System.Text;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class EventApiTests(EdgeFixture fx)
{
    private static string Payload(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private async Task<string> TopicAsync(string prefix)
    {
        var topic = Http.Unique(prefix);
        var created = await (await fx.Admin.PostJsonAsync("/v1/event-topics", $$$"""{"name":"{{{topic}}}","retentionSeconds":86400,"metadata":{"team":"billing"}}""")).ReadAsync<TopicView>(HttpStatusCode.Created);
        Assert.Equal((topic, 86400L, "billing"), (created.Name, created.RetentionSeconds!.Value, created.Metadata["team"]));
        return topic;
    }

    [Fact]
    public async Task Topics_CreateDescribeListAndRefuseADuplicate()
    {
        var topic = await TopicAsync("ev.topics");
        var described = await (await fx.Admin.GetAsync($"/v1/event-topics/{topic}")).ReadAsync<TopicView>();
        Assert.Equal(topic, described.Name);
        await (await fx.Admin.PostJsonAsync("/v1/event-topics", $$"""{"name":"{{topic}}"}""")).ProblemAsync(HttpStatusCode.Conflict, "storage.conflict");
        await (await fx.Admin.GetAsync("/v1/event-topics/never.created")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");

        var names = new List<string>();
        string? continuation = null;
        do
        {
            var page = await (await fx.Admin.GetAsync("/v1/event-topics?limit=1" + (continuation is null ? "" : "&continuation=" + Uri.EscapeDataString(continuation)))).ReadAsync<TopicList>();
            names.AddRange(page.Topics.Select(t => t.Name));
            continuation = page.Continuation;
        }
        while (continuation is not null);
        Assert.Contains(topic, names);

        var held = await (await fx.Admin.PutJsonAsync($"/v1/event-topics/{topic}/legal-hold", """{"legalHold":true}""")).ReadAsync<TopicView>();
        Assert.True(held.LegalHold);
    }

    [Fact]
    public async Task PublishQueryGetAndOffsets()
    {
        var topic = await TopicAsync("ev.publish");
        var one = await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}", $$"""{"payload":"{{Payload("first")}}","priority":"high"}""")).ReadAsync<EventPublished>(HttpStatusCode.Created);
        var batch = await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}/batch", $$"""[{"payload":"{{Payload("second")}}"},{"payload":"{{Payload("third")}}","priority":"low"}]""")).ReadAsync<EventsPublished>(HttpStatusCode.Created);

        var page = await (await fx.Admin.GetAsync($"/v1/events/{topic}")).ReadAsync<EventPage>();
        Assert.Equal(["first", "second", "third"], page.Events.Select(e => Encoding.UTF8.GetString(e.Payload!)));
        var high = await (await fx.Admin.GetAsync($"/v1/events/{topic}?minPriority=high")).ReadAsync<EventPage>();
        Assert.Equal([one.Id], high.Events.Select(e => e.Id));

        var got = await (await fx.Admin.GetAsync($"/v1/event-entries/{batch.Ids[1]}")).ReadAsync<EventView>();
        Assert.Equal("third", Encoding.UTF8.GetString(got.Payload!));

        var committed = await (await fx.Admin.PutJsonAsync($"/v1/events/{topic}/offsets/billing", $$"""{"position":"{{batch.Ids[0]}}"}""")).ReadAsync<OffsetView>();
        Assert.Equal(batch.Ids[0], committed.Position);
        await (await fx.Admin.PutJsonAsync($"/v1/events/{topic}/offsets/billing", $$"""{"position":"{{one.Id}}"}""")).ProblemAsync(HttpStatusCode.Conflict, "events.offset_regression");
        var offset = await (await fx.Admin.GetAsync($"/v1/events/{topic}/offsets/billing")).ReadAsync<OffsetView>();
        Assert.Equal((batch.Ids[0], 1L), (offset.Position, offset.Version));

        await (await fx.Admin.PostJsonAsync("/v1/events/never.created", $$"""{"payload":"{{Payload("x")}}"}""")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
        await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}", """{"payload":"not base64!"}""")).ProblemAsync(HttpStatusCode.BadRequest, "validation.malformed_body");
    }

    [Fact]
    public async Task Stream_DeliversEveryEventWithItsId_AndResumesAfterLastEventId()
    {
        var topic = await TopicAsync("ev.sse");
        var first = await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}/batch",
            "[" + string.Join(',', Enumerable.Range(1, 5).Select(i => $$"""{"payload":"{{Payload($"e{i}")}}"}""")) + "]")).ReadAsync<EventsPublished>(HttpStatusCode.Created);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        string lastSeen;
        using (var response = await fx.Admin.GetAsync($"/v1/events/{topic}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var sse = new SseReader(await response.Content.ReadAsStreamAsync(timeout.Token));
            var seen = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var (id, e) = (await sse.NextAsync(timeout.Token))!.Value;
                Assert.Equal(id, e.Id);
                seen.Add(id);
            }

            Assert.Equal(first.Ids[..3], seen);
            lastSeen = seen[^1];
        }

        var more = await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}/batch", $$"""[{"payload":"{{Payload("e6")}}"},{"payload":"{{Payload("e7")}}"}]""")).ReadAsync<EventsPublished>(HttpStatusCode.Created);
        using var resume = new HttpRequestMessage(HttpMethod.Get, $"/v1/events/{topic}/stream");
        resume.Headers.Add("Last-Event-ID", lastSeen);
        using var resumed = await fx.Admin.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new SseReader(await resumed.Content.ReadAsStreamAsync(timeout.Token));
        var rest = new List<string>();
        while (rest.Count < 4)
        {
            rest.Add((await reader.NextAsync(timeout.Token))!.Value.Id);
        }

        Assert.Equal(first.Ids[3..].Concat(more.Ids), rest);
    }

    [Fact]
    public async Task Stream_OfAMissingTopicOrWithoutPermission_IsAProblemNotAStream()
    {
        await (await fx.Admin.GetAsync("/v1/events/never.created/stream")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
        var topic = await TopicAsync("ev.sse-denied");
        using var writer = fx.Client(fx.Jwt("svc-writer", ["writer"]));
        await (await writer.GetAsync($"/v1/events/{topic}/stream")).ProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        using var bad = new HttpRequestMessage(HttpMethod.Get, $"/v1/events/{topic}/stream");
        bad.Headers.Add("Last-Event-ID", "zzz");
        await (await fx.Admin.SendAsync(bad)).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_id");
    }

    [Fact]
    public async Task Stream_ToAReaderThatStalls_HoldsTheSourceBack_ThenDeliversEveryEventOnceInOrder()
    {
        // A window of 4 events and a client socket with an 8 KiB receive buffer: while the client
        // reads nothing, ~6 MiB are published. The edge writes only what the connection takes and
        // acknowledges only what it wrote, so the subscription never overruns its bounded buffer
        // (an overrun ends the stream with an error) and the events wait in the shard.
        await using var server = await fx.StartServerAsync(o => o.SubscriptionWindow = 4);
        var topic = await TopicAsync("ev.sse-slow");
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 8192 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var slow = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        slow.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fx.AdminKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await slow.GetAsync($"/v1/events/{topic}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var payload = new string('p', 32 * 1024);
        var published = new List<string>();
        for (var batch = 0; batch < 40; batch++)
        {
            var body = "[" + string.Join(',', Enumerable.Range(0, 5).Select(i => $$"""{"payload":"{{Payload($"{batch * 5 + i:D4}{payload}")}}"}""")) + "]";
            published.AddRange((await (await fx.Admin.PostJsonAsync($"/v1/events/{topic}/batch", body)).ReadAsync<EventsPublished>(HttpStatusCode.Created)).Ids);
        }

        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var seen = new List<string>();
        while (seen.Count < published.Count)
        {
            var next = await sse.NextAsync(timeout.Token);
            Assert.True(next is not null, $"the stream ended after {seen.Count} of {published.Count} events");
            Assert.Equal($"{seen.Count:D4}", Encoding.UTF8.GetString(next.Value.Event.Payload!)[..4]);
            seen.Add(next.Value.Id);
        }

        Assert.Equal(published, seen);
    }
}
