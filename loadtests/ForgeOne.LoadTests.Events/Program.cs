// Events benchmark on one events shard actor (no cluster: the shard's own costs):
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Events [-- --events 200000 --nosync]
//
// 1. publish: batches of 100 (8 concurrent senders) and single events (64 concurrent), closed
//    loop; every event validated, authorized, field- and record-encrypted, indexed twice (time
//    and sequence index) and audited (one record per operation) in the group commit.
// 2. query: first page (100) of a topic + 1-hour range over --events events spread over 2 hours,
//    with and without a minimum-priority filter: latency p50/p99 over 200 queries.
// 3. subscription catch-up: a subscriber from the beginning (window 1000, acks every batch).
// 4. live latency: publish one event at a time while subscribed; publish-start -> delivered p50/p99.
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Events;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;

var total = IntArg("--events", 200_000);
var noSync = args.Contains("--nosync");
var root = Path.Combine(Path.GetTempPath(), "forgeone-events-bench", Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(Path.Combine(root, "data"));
var node = new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "keys"), Path.Combine(root, "data")), TimeProvider.System, "bench");
PrincipalToken Token(string id, string role, string? tenant) => node.Issuer.Issue(Principal.Of(id, [role], tenant, ["*"], int.MaxValue), id, TimeSpan.FromHours(1)).Token;
var admin = Token("bench-admin", "admin", null);
var writer = Token("bench-writer", "writer", "acme");
var reader = Token("bench-reader", "reader", "acme");
var timeout = TimeSpan.FromSeconds(60);
var payload = new byte[256];
Random.Shared.NextBytes(payload);

var kek = new FileKekProvider(Path.Combine(root, "keys"), Path.Combine(root, "data"));
var host = new ShardHost(Path.Combine(root, "data"), new ShardCounts(1, 1, 1), new ShardOptions { NoSync = noSync, MaxGroupCommit = 8192 },
    new ShardSecurityFactory(kek, node, TimeProvider.System),
    new Dictionary<ShardKind, IShardHandler> { [ShardKind.Events] = new EventShardHandler() },
    TimeProvider.System, Limits.Default);
var system = ActorSystem.Create("bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING\n" + ClusterConfig.ShardActorHocon));
var shard = system.ActorOf(ShardActor.Props(host, "events-0", "bench"));
Console.WriteLine($"ForgeOne events benchmark: {Environment.ProcessorCount} cores, one events shard, 256-byte payloads, fsync {(noSync ? "OFF" : "ON")}, {total:N0} events in the query topic");

await Expect<TopicCreated>(new CreateTopic(admin, "bench.query", new TopicSettings()));
await Expect<TopicCreated>(new CreateTopic(admin, "bench.ingest", new TopicSettings()));
await Expect<TopicCreated>(new CreateTopic(admin, "bench.live", new TopicSettings()));

// ---- 1. publish throughput ----
var batchRate = await ClosedLoop(8, TimeSpan.FromSeconds(5), async () =>
{
    var now = DateTimeOffset.UtcNow;
    await Expect<EventsPublished>(new PublishEvents(writer, "bench.ingest", [.. Enumerable.Range(0, 100).Select(_ => new EventInput(now, Priority.Normal, payload))]));
    return 100;
});
var singleRate = await ClosedLoop(64, TimeSpan.FromSeconds(5), async () =>
{
    await Expect<EventPublished>(new PublishEvent(writer, "bench.ingest", new EventInput(DateTimeOffset.UtcNow, Priority.Normal, payload)));
    return 1;
});
Console.WriteLine($"publish, batches of 100 : {batchRate,12:N0} events/s");
Console.WriteLine($"publish, single events  : {singleRate,12:N0} events/s  (batch/single = {batchRate / singleRate:F1}x)");

// ---- 2. query latency over `total` events spread over two hours ----
var start = DateTimeOffset.UtcNow.AddHours(-2).AddMinutes(-1);
var step = TimeSpan.FromHours(2) / total;
for (var i = 0; i < total; i += 1000)
{
    var n = Math.Min(1000, total - i);
    await Expect<EventsPublished>(new PublishEvents(writer, "bench.query", [.. Enumerable.Range(i, n).Select(j => new EventInput(start + (step * j), (Priority)(j % 4), payload))]));
}

var plain = new List<double>();
var filtered = new List<double>();
for (var q = 0; q < 200; q++)
{
    var from = start + TimeSpan.FromMinutes(Random.Shared.Next(0, 60));
    plain.Add(await Timed(() => Expect<EventPage>(new QueryEvents(reader, "bench.query", from, from.AddHours(1), Limit: 100))));
    filtered.Add(await Timed(() => Expect<EventPage>(new QueryEvents(reader, "bench.query", from, from.AddHours(1), Priority.Critical, Limit: 100))));
}

Console.WriteLine($"query 1h range, page 100             : p50 {P(plain, 50),7:F2} ms  p99 {P(plain, 99),7:F2} ms");
Console.WriteLine($"query 1h range, page 100, >= Critical: p50 {P(filtered, 50),7:F2} ms  p99 {P(filtered, 99),7:F2} ms");

// ---- 3. subscription catch-up over the whole query topic ----
var caughtUp = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
var catchUpWatch = Stopwatch.StartNew();
system.ActorOf(Props.Create(() => new Counter(shard, reader, "bench.query", total, 1000, caughtUp, null)));
await caughtUp.Task.WaitAsync(TimeSpan.FromMinutes(5));
catchUpWatch.Stop();
Console.WriteLine($"subscription catch-up   : {total / catchUpWatch.Elapsed.TotalSeconds,12:N0} events/s ({total:N0} events, window 1000)");

// ---- 4. live latency: publish -> delivered ----
var delivered = new Dictionary<RecordId, long>();
var liveReady = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
var live = system.ActorOf(Props.Create(() => new Counter(shard, reader, "bench.live", int.MaxValue, 100, liveReady, delivered)));
await liveReady.Task.WaitAsync(timeout);
var latencies = new List<double>();
for (var i = 0; i < 500; i++)
{
    var t0 = Stopwatch.GetTimestamp();
    var id = (await Expect<EventPublished>(new PublishEvent(writer, "bench.live", new EventInput(DateTimeOffset.UtcNow, Priority.High, payload)))).Id;
    var deadline = DateTime.UtcNow + timeout;
    long at;
    while (true)
    {
        lock (delivered)
        {
            if (delivered.TryGetValue(id, out at))
            {
                break;
            }
        }

        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"event {id} was not delivered");
        }

        await Task.Yield();
    }

    latencies.Add(Stopwatch.GetElapsedTime(t0, at).TotalMilliseconds);
}

Console.WriteLine($"live publish->delivered : p50 {P(latencies, 50),7:F2} ms  p99 {P(latencies, 99),7:F2} ms (500 sequential publishes)");
system.Stop(live);
await system.Terminate();
try
{
    Directory.Delete(root, true);
}
catch (IOException)
{
}

async Task<T> Expect<T>(object message)
{
    var reply = await shard.Ask<object>(message, timeout);
    return reply is T t ? t : throw new InvalidOperationException($"{message.GetType().Name}: {reply}");
}

async Task<double> ClosedLoop(int workers, TimeSpan duration, Func<Task<int>> call)
{
    await call(); // warm-up
    var stop = DateTime.UtcNow + duration;
    long count = 0;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
    {
        while (DateTime.UtcNow < stop)
        {
            Interlocked.Add(ref count, await call());
        }
    }));
    return count / watch.Elapsed.TotalSeconds;
}

static async Task<double> Timed(Func<Task> call)
{
    var t0 = Stopwatch.GetTimestamp();
    await call();
    return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
}

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
}

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>A raw-protocol subscriber that acknowledges every batch and counts (or timestamps) deliveries.</summary>
internal sealed class Counter : ReceiveActor
{
    public Counter(IActorRef shard, PrincipalToken caller, string topic, int expected, int window, TaskCompletionSource<int> done, Dictionary<RecordId, long>? stamps)
    {
        var received = 0;
        Receive<SubscriptionStarted>(_ =>
        {
            if (stamps is not null)
            {
                done.TrySetResult(0); // live mode: ready once started
            }
        });
        Receive<SubscriptionEvents>(batch =>
        {
            var now = Stopwatch.GetTimestamp();
            if (stamps is not null)
            {
                lock (stamps)
                {
                    foreach (var e in batch.Events)
                    {
                        stamps[e.Id] = now;
                    }
                }
            }

            received += batch.Events.Length;
            Sender.Tell(new SubscriptionAck(batch.SubscriptionId, batch.Events[^1].Id));
            if (received >= expected)
            {
                done.TrySetResult(received);
            }
        });
        Receive<EventFailed>(f => done.TrySetException(new InvalidOperationException(f.Error.ToString())));
        shard.Tell(new Subscribe(caller, topic, stamps is null ? SubscriptionStart.Beginning : SubscriptionStart.Now, window, Self, "bench-" + topic, 1));
    }
}
