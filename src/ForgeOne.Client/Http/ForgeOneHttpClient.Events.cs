using System.Runtime.CompilerServices;
using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using P = ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Client.Http;

/// <summary>Events.</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <inheritdoc />
    public async Task<P.TopicDescription> CreateTopicAsync(string topic, P.TopicSettings settings, CancellationToken cancellationToken = default) =>
        FromApi(await PostJsonAsync<TopicInput, TopicView>("/v1/event-topics",
            new TopicInput(topic, settings.Retention is { } r ? (long)r.TotalSeconds : null, settings.ResidencyZone, settings.Classification, settings.LegalHold, settings.Metadata), idempotent: false, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<P.TopicDescription> DescribeTopicAsync(string topic, CancellationToken cancellationToken = default) =>
        FromApi(await GetAsync<TopicView>($"/v1/event-topics/{Escape(topic)}", cancellationToken).ConfigureAwait(false));

    /// <summary>One page of the topics the caller may see; pass the continuation back for the next.</summary>
    public async Task<(P.TopicDescription[] Topics, string? Continuation)> ListTopicsAsync(int limit = 100, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var page = await GetAsync<TopicList>($"/v1/event-topics?limit={limit}{Continue(continuation)}", cancellationToken).ConfigureAwait(false);
        return ([.. page.Topics.Select(FromApi)], page.Continuation);
    }

    /// <inheritdoc />
    public async Task<RecordId> PublishAsync(string topic, P.EventInput e, CancellationToken cancellationToken = default) =>
        RecordId.Parse((await PostJsonAsync<EventInput, EventPublished>($"/v1/events/{Escape(topic)}", ToApi(e), idempotent: true, cancellationToken).ConfigureAwait(false)).Id);

    /// <inheritdoc />
    public async Task<RecordId[]> PublishBatchAsync(string topic, P.EventInput[] events, CancellationToken cancellationToken = default) =>
        [.. (await PostJsonAsync<EventInput[], EventsPublished>($"/v1/events/{Escape(topic)}/batch", [.. events.Select(ToApi)], idempotent: true, cancellationToken).ConfigureAwait(false)).Ids.Select(RecordId.Parse)];

    /// <inheritdoc />
    public async Task<P.EventPage> QueryEventsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Priority? minPriority = null, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var page = await GetAsync<EventPage>($"/v1/events/{Escape(topic)}?{Range(from, to)}{(minPriority is { } p ? $"&minPriority={p}" : "")}&limit={limit}{Continue(continuation)}", cancellationToken).ConfigureAwait(false);
        return new P.EventPage(page.Topic, [.. page.Events.Select(FromApi)], page.Continuation);
    }

    /// <summary>One event by id.</summary>
    public async Task<P.EventRecord> GetEventAsync(RecordId id, CancellationToken cancellationToken = default) =>
        FromApi(await GetAsync<EventView>($"/v1/event-entries/{id}", cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public Task CommitOffsetAsync(string group, string topic, RecordId position, bool force = false, CancellationToken cancellationToken = default) =>
        PostJsonAsync<OffsetInput, OffsetView>($"/v1/events/{Escape(topic)}/offsets/{Escape(group)}", new OffsetInput(position.ToString(), force), idempotent: true, cancellationToken, HttpMethod.Put);

    /// <inheritdoc />
    public async Task<P.CurrentConsumerOffset> GetOffsetAsync(string group, string topic, CancellationToken cancellationToken = default)
    {
        var o = await GetAsync<OffsetView>($"/v1/events/{Escape(topic)}/offsets/{Escape(group)}", cancellationToken).ConfigureAwait(false);
        return new P.CurrentConsumerOffset(o.Group, o.Topic, o.Position is null ? null : RecordId.Parse(o.Position), o.Version, o.CommittedAt);
    }

    /// <summary>
    /// The topic's events over Server-Sent Events. When the stream breaks (the connection, the
    /// edge node, the shard moving) it reconnects with <c>Last-Event-ID</c> = the last event it
    /// yielded (or the start position the edge announced), so the sequence has no gap and no
    /// duplicate. A refusal (404, 403) ends it with the problem; 429/503 are waited out.
    /// </summary>
    public async IAsyncEnumerable<P.EventRecord> SubscribeAsync(string topic, P.SubscriptionStart? start = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RecordId? last = start?.After;
        var fromNow = start?.FromNow ?? false;
        while (true)
        {
            var resumeFrom = last;
            var query = resumeFrom is null && fromNow ? "?from=now" : string.Empty;
            HttpResponseMessage? response = null;
            try
            {
                response = await SendRawAsync(HttpMethod.Get, $"/v1/events/{Escape(topic)}/stream{query}", null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken,
                    request =>
                    {
                        if (resumeFrom is { } id)
                        {
                            request.Headers.Add("Last-Event-ID", id.ToString());
                        }
                    }).ConfigureAwait(false);
            }
            catch (ForgeOneException e) when (e.Code is ErrorCodes.Unreachable or ErrorCodes.Unavailable && !cancellationToken.IsCancellationRequested)
            {
                // The edge is gone for longer than the retry deadline: keep trying, the caller decides when to stop.
                response?.Dispose();
            }

            if (response is not null)
            {
                using (response)
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    using var reader = new SseStreamReader(stream);
                    while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) is { } message)
                    {
                        if (message.Id is { } id && RecordId.TryParse(id, out var position))
                        {
                            // An id-only message is the edge announcing where it starts (a "now" start):
                            // resuming from there misses nothing.
                            last = position;
                            fromNow = false;
                        }

                        if (message.Data is { } data)
                        {
                            yield return FromApi(JsonSerializer.Deserialize(data, ApiJsonContext.Default.EventView)!);
                        }
                    }
                }
            }

            await Task.Delay(_options.SubscriptionReconnectDelay, cancellationToken).ConfigureAwait(false);
        }
    }

    private static EventInput ToApi(P.EventInput e) => new(e.Payload, e.Priority, e.Timestamp, e.Metadata, e.CheckpointMarker);

    private static P.EventRecord FromApi(EventView e) =>
        new(RecordId.Parse(e.Id), e.Topic, e.Timestamp, e.Priority, e.Payload, e.Metadata is null ? null : new Dictionary<string, string>(e.Metadata), e.CheckpointMarker, e.Redacted);

    private static P.TopicDescription FromApi(TopicView t) =>
        new(t.Name, t.CreatedAt, t.RetentionSeconds is { } s ? TimeSpan.FromSeconds(s) : null, t.ResidencyZone, t.Classification, t.LegalHold, new Dictionary<string, string>(t.Metadata));
}

/// <summary>One Server-Sent Events message: its id and data fields (either may be absent).</summary>
internal readonly record struct SseMessage(string? Id, string? Data);

/// <summary>Reads SSE messages (WHATWG event stream format: fields, comments, blank-line ends a message).</summary>
internal sealed class SseStreamReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    /// <summary>The next message with an id or data; null at the end of the stream or when the connection broke.</summary>
    public async Task<SseMessage?> NextAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        List<string>? data = null;
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // The connection broke mid-message: what was not completed is not delivered.
                return null;
            }

            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (id is not null || data is not null)
                {
                    return new SseMessage(id, data is null ? null : string.Join('\n', data));
                }

                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "data":
                    (data ??= []).Add(value);
                    break;
            }
        }
    }

    public void Dispose() => _reader.Dispose();
}
