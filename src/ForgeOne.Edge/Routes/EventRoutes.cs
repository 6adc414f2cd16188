using System.Globalization;
using System.Text;
using System.Text.Json;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using ForgeOne.Edge.Http;
using ForgeOne.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using P = ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary><c>/v1/event-topics</c> and <c>/v1/events</c>: topics, publish, query, get, consumer offsets, SSE subscriptions.</summary>
internal static class EventRoutes
{
    private static readonly ReadOnlyMemory<byte> KeepAlive = ": keep-alive\n\n"u8.ToArray();

    /// <summary>The SSE media type.</summary>
    public const string EventStream = "text/event-stream";

    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var topics = v1.MapGroup("/event-topics").WithTags("Events");
        topics.MapPost("/", async (HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.TopicInput).ConfigureAwait(false);
            if (input.RetentionSeconds is <= 0)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, "retentionSeconds must be positive (or null: keep forever).");
            }

            var settings = input.ToProtocol();
            var created = await cluster.AskAsync<P.TopicCreated>(new P.CreateTopic(http.Principal().Token, input.Name, settings, settings.ResidencyZone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(created.Topic.ToView(), ApiJsonContext.Default.TopicView, statusCode: StatusCodes.Status201Created);
        })
            .WithName("CreateTopic").WithSummary("Creates an events topic with its retention, residency zone and classification (events:admin).")
            .JsonBody<TopicInput>(options.MaxJsonBodyBytes)
            .Produces<TopicView>(StatusCodes.Status201Created).Problems(409);

        topics.MapGet("/", async (int? limit, string? continuation, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var c = cluster.Require();
            var region = zone is null ? c.Region(ShardKind.Events)
                : c.ZoneRegions.TryGetValue((ShardKind.Events, zone), out var r) ? r
                : throw new ForgeOneException(ErrorCodes.ResidencyUnavailable, $"Residency zone '{zone}' is not served by this cluster.");
            var page = await EventTopics.ListAsync(region, c.Regions.Counts.Of(ShardKind.Events), http.Principal().Token, LogRoutes.Limit(limit, 100, 1000), continuation, cluster.RequestTimeout, zone).ConfigureAwait(false);
            return Results.Json(new TopicList([.. page.Topics.Select(t => t.ToView())], page.Continuation), ApiJsonContext.Default.TopicList);
        })
            .WithName("ListTopics").WithSummary("One page of the topics the caller may see, across every events shard.")
            .Produces<TopicList>().Problems();

        topics.MapGet("/{topic}", async (string topic, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var described = await cluster.AskAsync<P.TopicDescribed>(new P.DescribeTopic(http.Principal().Token, topic, zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(described.Topic.ToView(), ApiJsonContext.Default.TopicView);
        })
            .WithName("DescribeTopic").WithSummary("One topic's settings.")
            .Produces<TopicView>().Problems(404);

        topics.MapPut("/{topic}/legal-hold", async (string topic, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.LegalHoldInput).ConfigureAwait(false);
            var described = await cluster.AskAsync<P.TopicDescribed>(new P.SetTopicLegalHold(http.Principal().Token, topic, input.LegalHold, zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(described.Topic.ToView(), ApiJsonContext.Default.TopicView);
        })
            .WithName("SetTopicLegalHold").WithSummary("Places or lifts a topic's legal hold.")
            .JsonBody<LegalHoldInput>(options.MaxJsonBodyBytes)
            .Produces<TopicView>().Problems(404);

        var events = v1.MapGroup("/events").WithTags("Events");
        events.MapPost("/{topic}", async (string topic, string? zone, HttpContext http, EdgeCluster cluster, TimeProvider time) =>
        {
            var (input, requestId) = await Idempotency.ReadJsonAsync(http, ApiJsonContext.Default.EventInput).ConfigureAwait(false);
            var done = await cluster.AskAsync<P.EventPublished>(new P.PublishEvent(http.Principal().Token, topic, input.ToProtocol(time.GetUtcNow()), zone, requestId), http.RequestAborted).ConfigureAwait(false);
            Idempotency.MarkReplayed(http, done.Replayed);
            EdgeMetrics.Ingested(done.Replayed ? 0 : 1, done.Replayed ? 0 : input.Payload?.Length ?? 0);
            return Results.Json(new EventPublished(done.Topic, done.Id.ToString()), ApiJsonContext.Default.EventPublished, statusCode: StatusCodes.Status201Created);
        })
            .WithName("PublishEvent").WithSummary("Publishes one event to an existing topic; the answer comes after the commit.")
            .JsonBody<EventInput>(options.MaxJsonBodyBytes)
            .Produces<EventPublished>(StatusCodes.Status201Created).Problems(404, 409, 422).Idempotent();

        events.MapPost("/{topic}/batch", async (string topic, string? zone, HttpContext http, EdgeCluster cluster, TimeProvider time) =>
        {
            var (input, requestId) = await Idempotency.ReadJsonAsync(http, ApiJsonContext.Default.EventInputArray).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var done = await cluster.AskAsync<P.EventsPublished>(new P.PublishEvents(http.Principal().Token, topic, [.. input.Select(e => e.ToProtocol(now))], zone, requestId), http.RequestAborted).ConfigureAwait(false);
            Idempotency.MarkReplayed(http, done.Replayed);
            EdgeMetrics.Ingested(done.Replayed ? 0 : input.Length, done.Replayed ? 0 : input.Sum(e => (long)(e.Payload?.Length ?? 0)));
            return Results.Json(new EventsPublished(done.Topic, [.. done.Ids.Select(i => i.ToString())]), ApiJsonContext.Default.EventsPublished, statusCode: StatusCodes.Status201Created);
        })
            .WithName("PublishEvents").WithSummary("Publishes a batch to one topic: all or nothing, one audit record.")
            .JsonBody<EventInput[]>(options.MaxJsonBodyBytes)
            .Produces<EventsPublished>(StatusCodes.Status201Created).Problems(404, 409, 422).Idempotent();

        events.MapGet("/{topic}", async (string topic, DateTimeOffset? from, DateTimeOffset? to, string? minPriority, int? limit, string? continuation, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var (f, t) = LogRoutes.Range(from, to);
            var page = await cluster.AskAsync<P.EventPage>(new P.QueryEvents(http.Principal().Token, topic, f, t, ParsePriority(minPriority), LogRoutes.Limit(limit, 100, 1000), continuation, zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new EventPage(page.Topic, [.. page.Events.Select(e => e.ToView())], page.Continuation), ApiJsonContext.Default.EventPage);
        })
            .WithName("QueryEvents").WithSummary("One page of a topic's events with from <= timestamp < to and priority >= minPriority, by (timestamp, id).")
            .Produces<EventPage>().Problems(404);

        v1.MapGet("/event-entries/{id}", async (string id, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var found = await cluster.AskAsync<P.EventFound>(new P.GetEvent(http.Principal().Token, Mapping.ParseId(id), zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(found.Event.ToView(), ApiJsonContext.Default.EventView);
        })
            .WithTags("Events").WithName("GetEvent").WithSummary("One event by id.")
            .Produces<EventView>().Problems(404);

        events.MapPut("/{topic}/offsets/{group}", async (string topic, string group, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.OffsetInput).ConfigureAwait(false);
            var done = await cluster.AskAsync<P.ConsumerOffsetCommitted>(new P.CommitConsumerOffset(http.Principal().Token, group, topic, Mapping.ParseId(input.Position, "position"), input.Force, zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new OffsetView(done.Group, done.Topic, done.Position.ToString(), done.Version, null), ApiJsonContext.Default.OffsetView);
        })
            .WithName("CommitOffset").WithSummary("Commits a consumer group's position (forward only unless force).")
            .JsonBody<OffsetInput>(options.MaxJsonBodyBytes)
            .Produces<OffsetView>().Problems(404, 409);

        events.MapGet("/{topic}/offsets/{group}", async (string topic, string group, string? zone, HttpContext http, EdgeCluster cluster) =>
        {
            var current = await cluster.AskAsync<P.CurrentConsumerOffset>(new P.GetConsumerOffset(http.Principal().Token, group, topic, zone), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(current.ToView(), ApiJsonContext.Default.OffsetView);
        })
            .WithName("GetOffset").WithSummary("A consumer group's committed position.")
            .Produces<OffsetView>().Problems(404);

        events.MapGet("/{topic}/stream", (string topic, string? after, string? from, string? group, string? zone, HttpContext http, EdgeCluster cluster) =>
            StreamAsync(topic, after, from, group, zone, http, cluster, options))
            .WithName("SubscribeEvents")
            .WithSummary("Server-Sent Events: catch-up then live, in id order, each event once with its id; reconnect with Last-Event-ID to resume right after it.")
            .Produces<EventView>(StatusCodes.Status200OK, EventStream).Problems(404);
    }

    private static async Task StreamAsync(string topic, string? after, string? from, string? group, string? zone, HttpContext http, EdgeCluster cluster, EdgeOptions options)
    {
        var c = cluster.Require();
        var caller = http.Principal().Token;
        // Last-Event-ID (what a reconnecting EventSource sends) wins over the query.
        var lastEventId = http.Request.Headers["Last-Event-ID"].FirstOrDefault();
        P.SubscriptionStart? start = lastEventId is { Length: > 0 } resume ? P.SubscriptionStart.AfterId(Mapping.ParseId(resume, "Last-Event-ID"))
            : after is not null ? P.SubscriptionStart.AfterId(Mapping.ParseId(after, "after"))
            : from switch
            {
                null => group is null ? P.SubscriptionStart.Beginning : null,
                "beginning" => P.SubscriptionStart.Beginning,
                "now" => P.SubscriptionStart.Now,
                _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, "'from' must be 'beginning' or 'now' (or give 'after' / Last-Event-ID)."),
            };
        var (region, error) = c.ResolveRegion(ShardKind.Events, topic, http.Principal().Principal.Tenant, zone);
        if (error is not null)
        {
            throw new ForgeOneException(error);
        }

        await using var subscription = SubscriptionChannel.Start(c.System, region!, new FixedTokenSource(caller), topic, start, new EventSubscriptionSettings(options.SubscriptionWindow, group) { Zone = zone });
        RecordId? startsAfter;
        try
        {
            startsAfter = await subscription.Started.WaitAsync(cluster.RequestTimeout, http.RequestAborted).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ForgeOneException(ErrorCodes.Timeout, $"The subscription to '{topic}' did not start within {cluster.RequestTimeout.TotalSeconds:0.#} s.");
        }

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = EventStream;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        // An id-only message (dispatched to no listener) sets the client's Last-Event-ID to where
        // this stream starts: a client that reconnects before the first event resumes exactly
        // there, even for a "now" start.
        var preamble = startsAfter is { } position ? $"retry: 1000\nid: {position}\n\n" : "retry: 1000\n: from the beginning\n\n";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(preamble), http.RequestAborted).ConfigureAwait(false);
        await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);

        var reader = subscription.Events;
        var wait = reader.WaitToReadAsync(http.RequestAborted).AsTask();
        try
        {
            while (true)
            {
                var heartbeat = Task.Delay(options.SubscriptionHeartbeat, http.RequestAborted);
                if (await Task.WhenAny(wait, heartbeat).ConfigureAwait(false) != wait)
                {
                    await response.Body.WriteAsync(KeepAlive, http.RequestAborted).ConfigureAwait(false);
                    await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                    continue;
                }

                if (!await wait.ConfigureAwait(false))
                {
                    // Completed: the subscription failed after it started (access revoked, topic gone).
                    await reader.Completion.ConfigureAwait(false);
                    return;
                }

                RecordId? last = null;
                while (reader.TryRead(out var e))
                {
                    await WriteEventAsync(response.Body, e, http.RequestAborted).ConfigureAwait(false);
                    last = e.Id;
                }

                await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                if (last is { } id)
                {
                    // Written to the connection: only now may the source send more.
                    subscription.Ack(id);
                }

                wait = reader.WaitToReadAsync(http.RequestAborted).AsTask();
            }
        }
        catch (ForgeOneException)
        {
            // The stream ends; the client resumes with Last-Event-ID.
        }
    }

    private static async Task WriteEventAsync(Stream body, P.EventRecord e, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(e.ToView(), ApiJsonContext.Default.EventView);
        await body.WriteAsync(Encoding.UTF8.GetBytes($"id: {e.Id}\nevent: event\ndata: "), cancellationToken).ConfigureAwait(false);
        await body.WriteAsync(json, cancellationToken).ConfigureAwait(false);
        await body.WriteAsync("\n\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
    }

    private static Priority? ParsePriority(string? text) =>
        text is null ? null
        : Enum.TryParse<Priority>(text, ignoreCase: true, out var p) && Enum.IsDefined(p) && !char.IsAsciiDigit(text[0]) ? p
        : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'minPriority' must be one of {string.Join(", ", Enum.GetNames<Priority>())}.");

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
