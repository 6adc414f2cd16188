using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using ForgeOne.Client;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// Who the workload acts as, proven by tokens signed with the cluster's authentication key (the
/// harness creates it in the shared keys directory before the first node starts).
/// </summary>
public sealed class FaultPrincipals(AuthenticationKeyring keys)
{
    private readonly TokenIssuer _issuer = new(keys, TimeProvider.System);

    /// <summary>What the client connects as: appends, publishes, reads back and subscribes.</summary>
    public PrincipalToken Service => Issue("fault-service", ["writer", "reader"], 0);

    /// <summary>Reads back.</summary>
    public PrincipalToken Reader => Issue("fault-reader", ["reader"], 0);

    /// <summary>Creates topics.</summary>
    public PrincipalToken Admin => Issue("fault-admin", ["admin"], int.MaxValue);

    private PrincipalToken Issue(string id, string[] roles, int clearance) =>
        _issuer.Issue(Principal.Of(id, roles, "acme", ["*"], clearance), id, TokenIssuer.MaxLifetime).Token;
}

/// <summary>What the workload wrote and was told: every acknowledged write, every write whose outcome is unknown, every failure, every delivered event, and when each shard acknowledged.</summary>
public sealed class AckLedger
{
    /// <summary>Acknowledged log entries: message -> (topic, id).</summary>
    public ConcurrentDictionary<string, (string Topic, RecordId Id)> Logs { get; } = new();

    /// <summary>Acknowledged events: payload text -> (topic, id).</summary>
    public ConcurrentDictionary<string, (string Topic, RecordId Id)> Events { get; } = new();

    /// <summary>Acknowledged blobs: id -> (XXH3-128 of the bytes, size).</summary>
    public ConcurrentDictionary<RecordId, (byte[] Checksum, long Size)> Blobs { get; } = new();

    /// <summary>Writes that ended without an answer (the client's deadline): written at most once, maybe not at all.</summary>
    public ConcurrentDictionary<string, string> Unknown { get; } = new();

    /// <summary>Writes refused with a definite error: never written. Message -> code.</summary>
    public ConcurrentDictionary<string, string> Refused { get; } = new();

    /// <summary>Delivered events per subscribed topic, in delivery order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(RecordId Id, string Payload)>> Delivered { get; } = new();

    /// <summary>Times (UTC ticks) at which each shard acknowledged a write.</summary>
    public ConcurrentDictionary<(ShardKind Kind, int Shard), ConcurrentQueue<long>> AckTimes { get; } = new();

    /// <summary>Exceptions the client let out instead of a typed answer (each one is a defect).</summary>
    public ConcurrentQueue<Exception> Unexpected { get; } = new();

    /// <summary>Counts of failure codes seen by the workload.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new();

    /// <summary>Records an acknowledgement by <paramref name="kind"/> shard <paramref name="shard"/> now.</summary>
    public void Acked(ShardKind kind, int shard) => AckTimes.GetOrAdd((kind, shard), _ => new()).Enqueue(DateTime.UtcNow.Ticks);

    /// <summary>The first acknowledgement of each shard at or after <paramref name="since"/> (null: none yet).</summary>
    public Dictionary<(ShardKind Kind, int Shard), DateTimeOffset?> FirstAckSince(DateTimeOffset since, IEnumerable<(ShardKind, int)> shards) =>
        shards.ToDictionary(s => s, s =>
        {
            var first = AckTimes.TryGetValue(s, out var times) ? times.Where(t => t >= since.UtcTicks).DefaultIfEmpty(long.MaxValue).Min() : long.MaxValue;
            return first == long.MaxValue ? (DateTimeOffset?)null : new DateTimeOffset(first, TimeSpan.Zero);
        });

    internal void Failed(string key, object reply)
    {
        var code = reply is IFailureReply f ? f.Error.Code : reply.GetType().Name;
        Errors.AddOrUpdate(code, 1, (_, n) => n + 1);
        if (code == ErrorCodes.Timeout || code == ErrorCodes.Unavailable || code == ErrorCodes.RequestInFlight)
        {
            // The client's deadline ran out while the cluster was recovering: the write may have committed.
            Unknown[key] = code;
        }
        else
        {
            Refused[key] = code;
        }
    }
}

/// <summary>
/// A steady mixed load through the actor client, retries on: single appends (coalesced), log
/// batches, single event publishes into subscribed topics, and small blob uploads, on topics
/// that cover every shard. Paced so it leaves the shared machine room to breathe; every
/// outcome goes into the <see cref="AckLedger"/>.
/// </summary>
public sealed class Workload : IAsyncDisposable
{
    private readonly FaultCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<IActorRef> _subscriptions = [];
    private readonly TimeSpan _pace;
    private long _sequence;

    private Workload(FaultCluster cluster, TimeSpan pace, string name)
    {
        _cluster = cluster;
        _pace = pace;
        LogTopics = CoveringTopics($"{name}-log", FaultCluster.Counts.Logs);
        EventTopics = CoveringTopics($"{name}-events", FaultCluster.Counts.Events);
    }

    /// <summary>Everything acknowledged so far.</summary>
    public AckLedger Ledger { get; } = new();

    /// <summary>One log topic per log shard.</summary>
    public IReadOnlyList<string> LogTopics { get; }

    /// <summary>One events topic per events shard.</summary>
    public IReadOnlyList<string> EventTopics { get; }

    /// <summary>
    /// Creates the topics, subscribes to every events topic and starts the load. Topics are
    /// named after <paramref name="name"/>: a second load on other topics leaves the first
    /// one's ledger exact.
    /// </summary>
    public static async Task<Workload> StartAsync(FaultCluster cluster, TimeSpan? pace = null, int singleWriters = 4, bool blobs = true, string name = "fault")
    {
        var workload = new Workload(cluster, pace ?? TimeSpan.FromMilliseconds(20), name);
        await workload.CreateTopicsAsync().ConfigureAwait(false);
        workload.Subscribe();
        for (var i = 0; i < singleWriters; i++)
        {
            workload.Loop(workload.AppendOneAsync);
        }

        workload.Loop(workload.AppendBatchAsync);
        workload.Loop(workload.PublishAsync);
        workload.Loop(workload.PublishAsync);
        if (blobs)
        {
            workload.Loop(workload.UploadBlobAsync);
        }

        return workload;
    }

    /// <summary>Topics named <c>{prefix}-{k}</c>, the first one that routes to each shard.</summary>
    public static IReadOnlyList<string> CoveringTopics(string prefix, int shards) =>
        [.. Enumerable.Range(0, shards).Select(n => Enumerable.Range(0, 10_000).Select(k => $"{prefix}-{k}").First(t => ShardRouter.ShardFor(t, shards) == n))];

    /// <summary>Stops the load and waits for every operation in flight to end (acknowledged, refused or timed out).</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    /// <summary>Stops the subscriptions (after verification needs their deliveries).</summary>
    public void StopSubscriptions()
    {
        foreach (var subscription in _subscriptions)
        {
            subscription.Tell(EventSubscription.Stop.Instance);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task CreateTopicsAsync()
    {
        foreach (var topic in EventTopics)
        {
            var reply = await _cluster.Client.Ask(new CreateTopic(_cluster.Principals.Admin, topic, new TopicSettings())).ConfigureAwait(false);
            if (reply is not TopicCreated and not EventFailed { Error.Code: ErrorCodes.Conflict })
            {
                throw new InvalidOperationException($"Could not create topic {topic}: {reply}");
            }
        }
    }

    private void Subscribe()
    {
        foreach (var topic in EventTopics)
        {
            var queue = Ledger.Delivered.GetOrAdd(topic, _ => new());
            var consumer = _cluster.Client.System.ActorOf(Props.Create(() => new RecordingConsumer(queue)));
            _subscriptions.Add(_cluster.Client.Subscribe(topic, consumer, SubscriptionStart.Beginning));
        }
    }

    private void Loop(Func<long, Task> operation) =>
        _loops.Add(Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await operation(Interlocked.Increment(ref _sequence)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    // Not a typed refusal: the client let an exception out. Recorded, and the load goes on.
                    Ledger.Unexpected.Enqueue(e);
                }

                try
                {
                    await Task.Delay(_pace, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }));

    private async Task AppendOneAsync(long n)
    {
        var topic = LogTopics[(int)(n % LogTopics.Count)];
        var message = $"s-{n}";
        try
        {
            var id = await _cluster.Client.AppendLogAsync(topic, new LogInput(DateTimeOffset.UtcNow, Severity.Info, message)).ConfigureAwait(false);
            Ledger.Logs[message] = (topic, id);
            Ledger.Acked(ShardKind.Logs, id.Shard);
        }
        catch (ForgeOneException e)
        {
            Ledger.Failed(message, new LogFailed(e.Error));
        }
    }

    private async Task AppendBatchAsync(long n)
    {
        var topic = LogTopics[(int)(n % LogTopics.Count)];
        var messages = Enumerable.Range(0, 20).Select(i => $"b-{n}-{i}").ToArray();
        try
        {
            var ids = await _cluster.Client.AppendLogBatchAsync(topic, [.. messages.Select(m => new LogInput(DateTimeOffset.UtcNow, Severity.Info, m))]).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                Ledger.Logs[messages[i]] = (topic, ids[i]);
            }

            Ledger.Acked(ShardKind.Logs, ids[0].Shard);
        }
        catch (ForgeOneException e)
        {
            foreach (var m in messages)
            {
                Ledger.Failed(m, new LogFailed(e.Error));
            }
        }
    }

    private async Task PublishAsync(long n)
    {
        var topic = EventTopics[(int)(n % EventTopics.Count)];
        var payload = $"e-{n}";
        try
        {
            var id = await _cluster.Client.PublishAsync(topic, new EventInput(DateTimeOffset.UtcNow, Priority.Normal, Encoding.UTF8.GetBytes(payload))).ConfigureAwait(false);
            Ledger.Events[payload] = (topic, id);
            Ledger.Acked(ShardKind.Events, id.Shard);
        }
        catch (ForgeOneException e)
        {
            Ledger.Failed(payload, new EventFailed(e.Error));
        }
    }

    private async Task UploadBlobAsync(long n)
    {
        var data = new byte[(int)(96 * 1024 + (n % 7) * 10_000)];
        new Random((int)n).NextBytes(data);
        var blobs = new BlobClient(_cluster.Client.Cluster.Region(ShardKind.Blobs), FaultCluster.Counts.Blobs, _cluster.Client.Tokens);
        try
        {
            using var stream = new MemoryStream(data);
            var meta = await blobs.UploadAsync(stream, $"blob-{n}", "application/octet-stream", chunkSize: 32 * 1024).ConfigureAwait(false);
            Ledger.Blobs[meta.Id] = (System.IO.Hashing.XxHash128.Hash(data), data.Length);
            Ledger.Acked(ShardKind.Blobs, meta.Id.Shard);
        }
        catch (ForgeOneException e)
        {
            Ledger.Failed($"blob-{n}", new BlobProtocol.BlobFailed(e.Error));
        }
    }

    /// <summary>Records each delivered event and acknowledges it at once.</summary>
    private sealed class RecordingConsumer : ReceiveActor
    {
        public RecordingConsumer(ConcurrentQueue<(RecordId, string)> delivered)
        {
            Receive<EventSubscription.Delivered>(d =>
            {
                delivered.Enqueue((d.Event.Id, Encoding.UTF8.GetString(d.Event.Payload ?? [])));
                Sender.Tell(new EventSubscription.Ack(d.Event.Id));
            });
            ReceiveAny(_ => { });
        }
    }
}
