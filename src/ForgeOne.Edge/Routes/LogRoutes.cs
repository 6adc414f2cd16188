using System.Globalization;
using System.Text.Json;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Edge.Http;
using ForgeOne.Edge.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using P = ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary><c>/v1/logs</c>: append (one, a JSON batch, NDJSON bulk across topics), get, query, count, checkpoints, replay, topic policy.</summary>
internal static class LogRoutes
{
    // A bulk body is split per topic into batches no larger than the shard accepts.
    private static readonly int MaxBatch = Limits.Default.MaxBatchEntries;

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var logs = v1.MapGroup("/logs").WithTags("Logs");

        logs.MapPost("/{topic}", async (string topic, HttpContext http, EdgeCluster cluster, TimeProvider time) =>
        {
            var (input, requestId) = await Idempotency.ReadJsonAsync(http, ApiJsonContext.Default.LogEntryInput).ConfigureAwait(false);
            CheckSeverity(input.Severity);
            var done = await cluster.AskAsync<P.LogAppended>(new P.AppendLog(http.Principal().Token, topic, input.ToProtocol(time.GetUtcNow()), RequestId: requestId), http.RequestAborted).ConfigureAwait(false);
            Idempotency.MarkReplayed(http, done.Replayed);
            EdgeMetrics.Ingested(done.Replayed ? 0 : 1, done.Replayed ? 0 : input.Message.Length);
            return Results.Json(new LogAppended(done.Topic, done.Id.ToString()), ApiJsonContext.Default.LogAppended, statusCode: StatusCodes.Status201Created);
        })
            .WithName("AppendLog").WithSummary("Appends one entry; the answer comes after the commit.")
            .JsonBody<LogEntryInput>(options.MaxJsonBodyBytes)
            .Produces<LogAppended>(StatusCodes.Status201Created).Problems(404, 409, 422).Idempotent();

        logs.MapPost("/{topic}/batch", async (string topic, HttpContext http, EdgeCluster cluster, TimeProvider time) =>
        {
            var (input, requestId) = await Idempotency.ReadJsonAsync(http, ApiJsonContext.Default.LogEntryInputArray).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var entries = new P.LogInput[input.Length];
            long bytes = 0;
            for (var i = 0; i < input.Length; i++)
            {
                CheckSeverity(input[i].Severity);
                entries[i] = input[i].ToProtocol(now);
                bytes += input[i].Message.Length;
            }

            var done = await cluster.AskAsync<P.LogBatchAppended>(new P.AppendLogBatch(http.Principal().Token, topic, entries, RequestId: requestId), http.RequestAborted).ConfigureAwait(false);
            Idempotency.MarkReplayed(http, done.Replayed);
            EdgeMetrics.Ingested(done.Replayed ? 0 : entries.Length, done.Replayed ? 0 : bytes);
            return Results.Json(new LogBatchAppended(done.Topic, Ids(done.Ids)), ApiJsonContext.Default.LogBatchAppended, statusCode: StatusCodes.Status201Created);
        })
            .WithName("AppendLogBatch").WithSummary("Appends a batch to one topic: one transaction, all or nothing, one audit record.")
            .JsonBody<LogEntryInput[]>(options.MaxJsonBodyBytes)
            .Produces<LogBatchAppended>(StatusCodes.Status201Created).Problems(404, 409, 422).Idempotent();

        v1.MapPost("/bulk/logs", (HttpContext http, EdgeCluster cluster, TimeProvider time) => BulkAsync(http, cluster, time))
            .WithTags("Logs").WithName("BulkAppendLogs")
            .WithSummary("NDJSON bulk append across topics: one line per entry (with its topic); lines are grouped per topic into batches and every line gets its own result.")
            .Accepts<BulkLogLine>(RequestBody.Ndjson)
            .WithMetadata(new BodyLimit(options.MaxBulkBodyBytes, RequestBody.NdjsonTypes))
            .Produces<BulkResult>(StatusCodes.Status200OK).Problems(413, 415).Idempotent();

        v1.MapGet("/log-entries/{id}", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var found = await cluster.AskAsync<P.LogFound>(new P.GetLog(http.Principal().Token, Mapping.ParseId(id)), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(found.Entry.ToView(), ApiJsonContext.Default.LogEntryView);
        })
            .WithTags("Logs").WithName("GetLog").WithSummary("One entry by id (the id names its shard).")
            .Produces<LogEntryView>().Problems(404);

        logs.MapGet("/{topic}", async (string topic, DateTimeOffset? from, DateTimeOffset? to, string? minSeverity, int? limit, string? continuation, HttpContext http, EdgeCluster cluster) =>
        {
            var (f, t) = Range(from, to);
            var page = await cluster.AskAsync<P.LogPage>(new P.QueryLogs(http.Principal().Token, topic, f, t, ParseSeverity(minSeverity), Limit(limit, 1000, 10_000), continuation), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new LogPage(page.Topic, [.. page.Entries.Select(e => e.ToView())], page.ContinuationToken), ApiJsonContext.Default.LogPage);
        })
            .WithName("QueryLogs").WithSummary("One page of a topic's entries with from <= timestamp < to and severity >= minSeverity, oldest first.")
            .Produces<LogPage>().Problems(404);

        logs.MapGet("/{topic}/count", async (string topic, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, EdgeCluster cluster) =>
        {
            var (f, t) = Range(from, to);
            var count = await cluster.AskAsync<P.LogCount>(new P.CountLogs(http.Principal().Token, topic, f, t), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new LogCount(count.Topic, count.Count), ApiJsonContext.Default.LogCount);
        })
            .WithName("CountLogs").WithSummary("Number of a topic's entries in a time range (from the index: nothing is decrypted).")
            .Produces<LogCount>().Problems();

        logs.MapPost("/{topic}/checkpoints", async (string topic, HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.CheckpointInput).ConfigureAwait(false);
            var position = input.Position is null ? (RecordId?)null : Mapping.ParseId(input.Position, "position");
            var created = await cluster.AskAsync<P.CheckpointCreated>(new P.CreateCheckpoint(http.Principal().Token, topic, input.Name, position), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(created.Checkpoint.ToView(), ApiJsonContext.Default.CheckpointView, statusCode: StatusCodes.Status201Created);
        })
            .WithName("CreateCheckpoint").WithSummary("Creates the next version of a named checkpoint at an entry (default: the topic's newest).")
            .JsonBody<CheckpointInput>(options.MaxJsonBodyBytes)
            .Produces<CheckpointView>(StatusCodes.Status201Created).Problems(404);

        logs.MapGet("/{topic}/checkpoints", async (string topic, string? name, HttpContext http, EdgeCluster cluster) =>
        {
            var list = await cluster.AskAsync<P.CheckpointList>(new P.ListCheckpoints(http.Principal().Token, topic, name), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new CheckpointList(list.Topic, [.. list.Checkpoints.Select(c => c.ToView())]), ApiJsonContext.Default.CheckpointList);
        })
            .WithName("ListCheckpoints").WithSummary("Every version of every checkpoint of a topic (or of one name).")
            .Produces<CheckpointList>().Problems();

        logs.MapGet("/{topic}/replay", (string topic, string? checkpoint, string? marker, HttpContext http, EdgeCluster cluster) => ReplayAsync(topic, checkpoint, marker, http, cluster))
            .WithName("ReplayLogs")
            .WithSummary("Streams a topic as NDJSON from a checkpoint (entries after it) or from the newest entry with a marker, every entry's content hash verified.")
            .Produces<LogEntryView>(StatusCodes.Status200OK, RequestBody.Ndjson).Problems(404, 422);

        logs.MapPut("/{topic}/policy", async (string topic, HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.LogTopicPolicyInput).ConfigureAwait(false);
            if (input.RetentionSeconds is <= 0)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, "retentionSeconds must be positive (or null: keep forever).");
            }

            var set = await cluster.AskAsync<P.LogTopicPolicySet>(new P.SetLogTopicPolicy(http.Principal().Token, topic, input.RetentionSeconds is { } s ? TimeSpan.FromSeconds(s) : null, input.LegalHold), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(View(topic, set.Policy), ApiJsonContext.Default.LogTopicPolicyView);
        })
            .WithName("SetLogTopicPolicy").WithSummary("Sets a log topic's retention and legal hold.")
            .JsonBody<LogTopicPolicyInput>(options.MaxJsonBodyBytes)
            .Produces<LogTopicPolicyView>().Problems(409);

        logs.MapGet("/{topic}/policy", async (string topic, HttpContext http, EdgeCluster cluster) =>
        {
            var current = await cluster.AskAsync<P.CurrentLogTopicPolicy>(new P.GetLogTopicPolicy(http.Principal().Token, topic), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(View(topic, current.Policy), ApiJsonContext.Default.LogTopicPolicyView);
        })
            .WithName("GetLogTopicPolicy").WithSummary("A log topic's retention and legal hold.")
            .Produces<LogTopicPolicyView>().Problems();
    }

    private static async Task BulkAsync(HttpContext http, EdgeCluster cluster, TimeProvider time)
    {
        var caller = http.Principal().Token;
        var now = time.GetUtcNow();
        var items = new List<BulkItemResult?>();
        var byTopic = new Dictionary<string, List<(int Index, P.LogInput Entry)>>(StringComparer.Ordinal);
        var path = http.Request.Path.Value;
        long bytes = 0;
        // With an Idempotency-Key each topic batch is its own request (key, batch number) with
        // the fingerprint of the whole body: the same body groups the same way, so a retry
        // replays every batch; a batch whose key was used with another body is refused (422)
        // on its own lines.
        var key = Idempotency.Key(http);
        var body = http.Request.BodyReader;
        byte[]? fingerprint = null;
        if (key is not null)
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
            var whole = buffer.ToArray();
            fingerprint = Idempotency.Fingerprint(http, whole);
            body = System.IO.Pipelines.PipeReader.Create(new System.Buffers.ReadOnlySequence<byte>(whole));
        }

        await foreach (var line in Ndjson.ReadAsync(body, ApiJsonContext.Default.BulkLogLine, Limits.Default.MaxMessageBytes + (64 * 1024), http.RequestAborted).ConfigureAwait(false))
        {
            var index = items.Count;
            var entry = line.Value;
            var error = line.Error
                ?? (Enum.IsDefined(entry!.Severity) ? null : new ForgeOneError(ErrorCodes.InvalidArgument, $"Line {line.Number}: severity {(int)entry.Severity} is not defined."))
                ?? ModelValidation.Log(entry!.Topic, entry.Timestamp ?? now, entry.Message, entry.Metadata, entry.CheckpointMarker, now);
            if (error is not null)
            {
                items.Add(new BulkItemResult(ProblemMapping.StatusOf(error.Code), entry?.Topic, null, ProblemResponses.For(line.Error is not null ? error : error with { Message = $"Line {line.Number}: {error.Message}" }, path)));
                continue;
            }

            items.Add(null);
            bytes += entry!.Message.Length;
            if (!byTopic.TryGetValue(entry.Topic, out var group))
            {
                byTopic[entry.Topic] = group = [];
            }

            group.Add((index, entry.ToProtocol(now)));
        }

        // Every topic's batches go out at once: topics on different shards commit in parallel.
        var sends = byTopic.SelectMany(t => t.Value.Chunk(MaxBatch).Select(chunk => (t.Key, chunk)))
            .Select((batch, number) => SendAsync(batch.Key, batch.chunk, key is null ? null : new RequestId(key, number, fingerprint)))
            .ToList();
        await Task.WhenAll(sends).ConfigureAwait(false);
        var accepted = items.Count(i => i is { Status: StatusCodes.Status201Created });
        EdgeMetrics.Ingested(accepted, bytes);
        var result = new BulkResult(accepted != items.Count, accepted, items.Count - accepted, [.. items.Select(i => i!)]);
        http.Response.StatusCode = StatusCodes.Status200OK;
        await JsonSerializer.SerializeAsync(http.Response.Body, result, ApiJsonContext.Default.BulkResult, http.RequestAborted).ConfigureAwait(false);

        async Task SendAsync(string topic, (int Index, P.LogInput Entry)[] chunk, RequestId? requestId)
        {
            try
            {
                var done = await cluster.AskAsync<P.LogBatchAppended>(new P.AppendLogBatch(caller, topic, [.. chunk.Select(c => c.Entry)], RequestId: requestId), http.RequestAborted).ConfigureAwait(false);
                for (var i = 0; i < chunk.Length; i++)
                {
                    items[chunk[i].Index] = new BulkItemResult(StatusCodes.Status201Created, topic, done.Ids[i].ToString(), null);
                }
            }
            catch (ForgeOneException e)
            {
                var problem = ProblemResponses.For(e.Error, path);
                foreach (var (index, _) in chunk)
                {
                    items[index] = new BulkItemResult(problem.Status, topic, null, problem);
                }
            }
        }
    }

    private static async Task ReplayAsync(string topic, string? checkpoint, string? marker, HttpContext http, EdgeCluster cluster)
    {
        var caller = http.Principal().Token;
        string? token = null;
        var first = true;
        do
        {
            var page = await cluster.AskAsync<P.LogReplayPage>(new P.ReplayLogs(caller, topic, checkpoint, marker, 1000, token), http.RequestAborted).ConfigureAwait(false);
            if (first)
            {
                // Headers go out only once the first page is known good, so a refusal is still a problem+json.
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = RequestBody.Ndjson;
                first = false;
            }

            foreach (var entry in page.Entries)
            {
                await JsonSerializer.SerializeAsync(http.Response.Body, entry.ToView(), ApiJsonContext.Default.LogEntryView, http.RequestAborted).ConfigureAwait(false);
                await http.Response.Body.WriteAsync(NewLine, http.RequestAborted).ConfigureAwait(false);
            }

            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    private static LogTopicPolicyView View(string topic, P.LogTopicPolicy? policy) =>
        policy is null
            ? new LogTopicPolicyView(topic, null, false, null, null, null)
            : new LogTopicPolicyView(policy.Topic, Mapping.Seconds(policy.Retention), policy.LegalHold, policy.Zone, policy.ChangedAt, policy.ChangedBy);

    internal static (DateTimeOffset From, DateTimeOffset To) Range(DateTimeOffset? from, DateTimeOffset? to)
    {
        var f = from ?? Limits.Default.MinTimestamp;
        // Open-ended by default, and the same on every page: a continuation token is bound to its query's range.
        var t = to ?? DateTimeOffset.MaxValue;
        return f < t ? (f, t) : throw new ForgeOneException(ErrorCodes.InvalidArgument, "'from' must be before 'to'.");
    }

    internal static int Limit(int? limit, int fallback, int max) =>
        limit is null ? fallback : limit is >= 1 && limit <= max ? limit.Value : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'limit' must be 1..{max}.");

    private static Severity ParseSeverity(string? text) =>
        text is null ? Severity.Trace
        : Enum.TryParse<Severity>(text, ignoreCase: true, out var s) && Enum.IsDefined(s) && !char.IsAsciiDigit(text[0]) ? s
        : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'minSeverity' must be one of {string.Join(", ", Enum.GetNames<Severity>())}.");

    private static void CheckSeverity(Severity severity)
    {
        if (!Enum.IsDefined(severity))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Severity {(int)severity} is not one of {string.Join(", ", Enum.GetNames<Severity>())}.");
        }
    }

    private static string[] Ids(RecordId[] ids)
    {
        var result = new string[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            result[i] = ids[i].ToString();
        }

        return result;
    }

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
