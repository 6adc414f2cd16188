using System.Buffers.Binary;
using System.Collections.Concurrent;
using Akka.Actor;
using ForgeOne.Client;
using ForgeOne.Client.Http;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.LoadRunner;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Load;

/// <summary>
/// Who the load acts as: the token of a writer+reader of tenant <c>load</c> (the actor client's
/// own principal), and an admin's for topic set-up. One place, so how the load proves its
/// principals changes only here.
/// </summary>
public sealed record LoadIdentity(PrincipalToken Writer, PrincipalToken Admin)
{
    /// <summary>
    /// Tokens minted with the cluster authentication key of <paramref name="keysDirectory"/> (a
    /// node this runner started, whose keys it holds), valid for an hour.
    /// </summary>
    public static LoadIdentity FromKeys(string keysDirectory)
    {
        var issuer = new TokenIssuer(AuthenticationKeyring.LoadOrCreate(keysDirectory), TimeProvider.System);
        PrincipalToken Mint(Principal principal) => issuer.Issue(principal, principal.Id, TokenIssuer.MaxLifetime).Token;
        return new(
            Mint(Principal.Of("forgeone-load", ["writer", "reader"], "load", ["*"], 0)),
            Mint(Principal.Of("forgeone-load-admin", ["admin"], null, ["*"], int.MaxValue)));
    }
}

/// <summary>A scenario that cannot be set up (a type needing something the target lacks).</summary>
public sealed class ScenarioSetupException(string message) : Exception(message);

/// <summary>
/// The ForgeOne scenarios a run file names by <c>type</c>:
/// <list type="bullet">
/// <item><c>log-append</c>: appends (<c>batch</c> 1 = single entries, else batches) of <c>messageBytes</c> messages over <c>topics</c> topics, through the actor client (<c>via: actor</c>) or the HTTP edge (<c>via: http</c>, as the API key's principal).</item>
/// <item><c>log-query</c>: topic + 1 h range queries (<c>limit</c> per page) over <c>prefill</c> entries written before the load (also <c>via: http</c>).</item>
/// <item><c>log-get</c>: reads by id of <c>prefill</c> entries written before the load.</item>
/// <item><c>event-publish-deliver</c>: publishes one event and waits for a live subscriber to receive it (steps <c>publish</c> and <c>deliver</c>; the scenario's latency is end to end).</item>
/// <item><c>blob-transfer</c>: uploads a <c>size</c>-byte blob and downloads it again (steps <c>upload</c>, <c>download</c>).</item>
/// </list>
/// Failures are counted by their ForgeOne error code (<c>storage.full</c>, <c>auth.forbidden</c>, ...) or <c>timeout</c>.
/// </summary>
public static class ScenarioCatalog
{
    /// <summary>Every type a run file may name; the first is the default.</summary>
    public static IReadOnlyList<string> Types { get; } = ["log-append", "log-query", "log-get", "event-publish-deliver", "blob-transfer"];

    /// <summary>
    /// Builds the runner scenario for <paramref name="definition"/> against <paramref name="client"/>
    /// (or, for <c>via: http</c>, the HTTP client <paramref name="http"/> makes: log-append and log-query).
    /// </summary>
    public static Scenario Create(ScenarioDefinition definition, ForgeOneActorClient client, LoadIdentity identity, Func<ForgeOneHttpClient>? http = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(identity);
        var p = definition.Parameters;
        if (p.Via == "http" && definition.Type is not ("log-append" or "log-query"))
        {
            throw new ScenarioSetupException($"scenario '{definition.Name}': via: http is supported for log-append and log-query");
        }

        if (p.Via == "http" && http is null)
        {
            throw new ScenarioSetupException($"scenario '{definition.Name}': via: http needs a target with an HTTP edge");
        }

        var scenario = definition.Type switch
        {
            "log-append" when p.Via == "http" => HttpLogAppend(definition.Name, p, http!()),
            "log-query" when p.Via == "http" => HttpLogQuery(definition.Name, p, http!(), client, identity),
            "log-append" => LogAppend(definition.Name, p, client, identity),
            "log-query" => LogQuery(definition.Name, p, client, identity),
            "log-get" => LogGet(definition.Name, p, client, identity),
            "event-publish-deliver" => PublishDeliver(definition.Name, p, client, identity),
            "blob-transfer" => BlobTransfer(definition.Name, p, client, identity),
            _ => throw new ScenarioSetupException($"scenario '{definition.Name}': unknown type '{definition.Type}'"),
        };
        return scenario with
        {
            Simulations = definition.Load,
            Thresholds = definition.Thresholds,
            WarmUp = definition.WarmUp,
            Weight = definition.Weight,
        };
    }

    private static string[] Topics(string name, int count) => Enumerable.Range(0, count).Select(i => $"load.{name}.{i}").ToArray();

    private static Scenario LogAppend(string name, ScenarioParameters p, ForgeOneActorClient client, LoadIdentity id)
    {
        var topics = Topics(name, p.Topics);
        var message = new string('m', p.MessageBytes);
        return new Scenario(name, ctx => Guarded(async () =>
        {
            var topic = topics[ctx.InvocationNumber % topics.Length];
            if (p.Batch == 1)
            {
                await client.AppendLogAsync(topic, new LogInput(DateTimeOffset.UtcNow, Severity.Info, message), ctx.CancellationToken).ConfigureAwait(false);
            }
            else
            {
                var now = DateTimeOffset.UtcNow;
                var batch = new LogInput[p.Batch];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = new LogInput(now, Severity.Info, message);
                }

                await client.AppendLogBatchAsync(topic, batch, ctx.CancellationToken).ConfigureAwait(false);
            }

            return StepResult.Ok((long)p.Batch * p.MessageBytes);
        }));
    }

    // The edge authenticates the request's API key and acts as its principal; the entries are the same.
    private static Scenario HttpLogAppend(string name, ScenarioParameters p, ForgeOneHttpClient http)
    {
        var topics = Topics(name, p.Topics);
        var message = new string('m', p.MessageBytes);
        return new Scenario(name, ctx => Guarded(async () =>
        {
            var topic = topics[ctx.InvocationNumber % topics.Length];
            if (p.Batch == 1)
            {
                await http.AppendLogAsync(topic, new LogInput(DateTimeOffset.UtcNow, Severity.Info, message), ctx.CancellationToken).ConfigureAwait(false);
            }
            else
            {
                var now = DateTimeOffset.UtcNow;
                await http.AppendLogBatchAsync(topic, Enumerable.Range(0, p.Batch).Select(_ => new LogInput(now, Severity.Info, message)).ToArray(), ctx.CancellationToken).ConfigureAwait(false);
            }

            return StepResult.Ok((long)p.Batch * p.MessageBytes);
        }));
    }

    // Prefilled through the actor client (set-up, not measured); queried through the edge.
    private static Scenario HttpLogQuery(string name, ScenarioParameters p, ForgeOneHttpClient http, ForgeOneActorClient client, LoadIdentity id)
    {
        var topics = Topics(name, p.Topics);
        var origin = DateTimeOffset.UtcNow - TimeSpan.FromHours(2);
        return new Scenario(name, ctx => Guarded(async () =>
            {
                var topic = topics[ctx.InvocationNumber % topics.Length];
                var from = origin + TimeSpan.FromMinutes(ctx.InvocationNumber % 60);
                var page = await http.QueryLogsAsync(topic, from, from + TimeSpan.FromHours(1), limit: p.Limit, cancellationToken: ctx.CancellationToken).ConfigureAwait(false);
                return StepResult.Ok(page.Entries.Sum(e => (long)(e.Message?.Length ?? 0)));
            }))
            .WithInit(_ => Prefill(client, id, topics, p, origin, null));
    }

    private static Scenario LogQuery(string name, ScenarioParameters p, ForgeOneActorClient client, LoadIdentity id)
    {
        var topics = Topics(name, p.Topics);
        var origin = DateTimeOffset.UtcNow - TimeSpan.FromHours(2);
        return new Scenario(name, ctx => Guarded(async () =>
            {
                // A one-hour window inside the two prefilled hours, sliding with the invocation.
                var topic = topics[ctx.InvocationNumber % topics.Length];
                var from = origin + TimeSpan.FromMinutes(ctx.InvocationNumber % 60);
                var reply = await client.Ask(new QueryLogs(id.Writer, topic, from, from + TimeSpan.FromHours(1), Limit: p.Limit), ctx.CancellationToken).ConfigureAwait(false);
                return reply switch
                {
                    LogPage page => StepResult.Ok(page.Entries.Sum(e => (long)(e.Message?.Length ?? 0))),
                    IFailureReply failed => StepResult.Fail(failed.Error.Code),
                    _ => StepResult.Fail(reply.GetType().Name),
                };
            }))
            .WithInit(_ => Prefill(client, id, topics, p, origin, null));
    }

    private static Scenario LogGet(string name, ScenarioParameters p, ForgeOneActorClient client, LoadIdentity id)
    {
        var topics = Topics(name, p.Topics);
        var ids = new List<RecordId>();
        return new Scenario(name, ctx => Guarded(async () =>
            {
                var entry = await client.GetLogAsync(ids[(int)(ctx.InvocationNumber % ids.Count)], ctx.CancellationToken).ConfigureAwait(false);
                return StepResult.Ok(entry.Message?.Length ?? 0);
            }))
            .WithInit(_ => Prefill(client, id, topics, p with { Prefill = Math.Max(1, p.Prefill) }, DateTimeOffset.UtcNow - TimeSpan.FromHours(2), ids));
    }

    // Entries spread evenly over two hours from `origin`, in batches of up to 1,000 per topic.
    private static async Task Prefill(ForgeOneActorClient client, LoadIdentity id, string[] topics, ScenarioParameters p, DateTimeOffset origin, List<RecordId>? ids)
    {
        var message = new string('q', p.MessageBytes);
        var step = TimeSpan.FromHours(2) / Math.Max(1, p.Prefill);
        for (var written = 0; written < p.Prefill;)
        {
            var topic = topics[written / 1000 % topics.Length];
            var count = Math.Min(1000, p.Prefill - written);
            var batch = Enumerable.Range(written, count).Select(i => new LogInput(origin + (step * i), Severity.Info, message)).ToArray();
            var added = await client.AppendLogBatchAsync(topic, batch).ConfigureAwait(false);
            ids?.AddRange(added);
            written += count;
        }
    }

    private static Scenario PublishDeliver(string name, ScenarioParameters p, ForgeOneActorClient client, LoadIdentity id)
    {
        var topic = $"load.{name}";
        var waiting = new ConcurrentDictionary<long, TaskCompletionSource>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef? subscription = null;
        long next = 0;
        return new Scenario(name, ctx => Guarded(async () =>
            {
                // Keys are unique across warm-up and measured calls (their invocation numbers are not).
                var key = Interlocked.Increment(ref next);
                var payload = new byte[Math.Max(8, p.MessageBytes)];
                BinaryPrimitives.WriteInt64LittleEndian(payload, key);
                var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                waiting[key] = delivered;
                try
                {
                    var publish = await ctx.StepAsync("publish", async () =>
                    {
                        await client.PublishAsync(topic, new EventInput(DateTimeOffset.UtcNow, Priority.Normal, payload)).ConfigureAwait(false);
                        return StepResult.Ok(payload.Length);
                    }).ConfigureAwait(false);
                    if (!publish.IsOk)
                    {
                        return publish;
                    }

                    return await ctx.StepAsync("deliver", async () =>
                    {
                        await delivered.Task.WaitAsync(TimeSpan.FromSeconds(30), ctx.CancellationToken).ConfigureAwait(false);
                        return StepResult.Ok(payload.Length);
                    }).ConfigureAwait(false);
                }
                finally
                {
                    waiting.TryRemove(key, out _);
                }
            }))
            .WithInit(async _ =>
            {
                try
                {
                    // Topic creation is an admin's decision; the client's own principal only writes.
                    switch (await client.Ask(new CreateTopic(id.Admin, topic, new TopicSettings())).ConfigureAwait(false))
                    {
                        case TopicCreated:
                            break;
                        case IFailureReply failed:
                            throw new ForgeOneException(failed.Error);
                        case var other:
                            throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {other.GetType().Name}.");
                    }
                }
                catch (ForgeOneException e) when (e.Code == ErrorCodes.Conflict)
                {
                    // A cluster target may have it from an earlier run.
                }

                var consumer = client.System.ActorOf(Props.Create(() => new DeliveryConsumer(waiting, started)));
                subscription = client.Subscribe(topic, consumer, SubscriptionStart.Now);
                await started.Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            })
            .WithClean(_ =>
            {
                subscription?.Tell(EventSubscription.Stop.Instance);
                return Task.CompletedTask;
            });
    }

    private static Scenario BlobTransfer(string name, ScenarioParameters p, ForgeOneActorClient client, LoadIdentity id)
    {
        var blobs = new BlobClient(client.Cluster.Region(ShardKind.Blobs), client.Cluster.Regions.Counts.Of(ShardKind.Blobs), client.Tokens, TimeSpan.FromSeconds(60));
        var data = new byte[p.Size];
        new Random(42).NextBytes(data);
        return new Scenario(name, ctx => Guarded(async () =>
        {
            BlobMetadata? stored = null;
            var upload = await ctx.StepAsync("upload", async () =>
            {
                using var source = new MemoryStream(data, writable: false);
                stored = await blobs.UploadAsync(source, $"{name}/{ctx.InvocationNumber}.bin", "application/octet-stream", cancellationToken: ctx.CancellationToken).ConfigureAwait(false);
                return StepResult.Ok(data.Length);
            }).ConfigureAwait(false);
            if (!upload.IsOk)
            {
                return upload;
            }

            return await ctx.StepAsync("download", async () =>
            {
                using var destination = new MemoryStream(data.Length);
                await blobs.DownloadAsync(stored!.Id, destination, ctx.CancellationToken).ConfigureAwait(false);
                return destination.Length == data.Length ? StepResult.Ok(data.Length) : StepResult.Fail("short_download");
            }).ConfigureAwait(false);
        }));
    }

    // ForgeOne refusals count by their stable code, timeouts as "timeout".
    private static async ValueTask<StepResult> Guarded(Func<Task<StepResult>> step)
    {
        try
        {
            return await step().ConfigureAwait(false);
        }
        catch (ForgeOneException e)
        {
            return StepResult.Fail(e.Code);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            return StepResult.Fail("timeout");
        }
    }

    /// <summary>Completes the waiting publish of each delivered event and acknowledges it.</summary>
    private sealed class DeliveryConsumer : ReceiveActor
    {
        public DeliveryConsumer(ConcurrentDictionary<long, TaskCompletionSource> waiting, TaskCompletionSource started)
        {
            Receive<EventSubscription.Started>(_ => started.TrySetResult());
            Receive<EventSubscription.Failed>(f => started.TrySetException(new ForgeOneException(f.Error)));
            Receive<EventSubscription.Delivered>(d =>
            {
                if (d.Event.Payload is { Length: >= 8 } payload && waiting.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(payload), out var done))
                {
                    done.TrySetResult();
                }

                Sender.Tell(new EventSubscription.Ack(d.Event.Id));
            });
        }
    }
}
