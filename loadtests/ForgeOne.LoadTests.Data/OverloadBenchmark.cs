using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.LoadTests.Data;

/// <summary>
/// Admission control under a flood, on one durable log shard actor (fsync per commit):
/// first its capacity (32 senders, one 100-entry batch each in flight), then an open-loop client
/// offering 10x that many batches per second. Prints what was accepted and refused
/// (<c>cluster.overloaded</c>), the accepted writes' latency against the capacity run's, the
/// latency bound the pending limit implies, and the managed heap's peak in both runs (client
/// and shard share this process: the heap includes the flood's own batches in flight).
/// </summary>
internal static class OverloadBenchmark
{
    private const int Senders = 32;
    private const int BatchSize = 100;
    private const int MaxPendingCommands = 512;
    private static readonly Principal WriterPrincipal = Principal.Of("bench-writer", ["writer"], "bench", ["*"], 0);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Contains("--quick") ? 6 : 20;
        NativeLmdb.EnsureInstalled();
        var root = Directory.CreateTempSubdirectory("forgeone-overload-").FullName;
        var dataRoot = Path.Combine(root, "data");
        Directory.CreateDirectory(dataRoot);
        var node = new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "keys"), dataRoot), TimeProvider.System, "bench-node");
        var writer = node.Issuer.Issue(WriterPrincipal, "bench", TokenIssuer.MaxLifetime).Token;
        var host = new ShardHost(
            dataRoot,
            new ShardCounts(1, 1, 1),
            new ShardOptions { MaxPendingCommands = MaxPendingCommands },
            new ShardSecurityFactory(new FileKekProvider(Path.Combine(root, "keys"), dataRoot), node, TimeProvider.System),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Logs] = new LogShardHandler() },
            TimeProvider.System,
            Limits.Default);
        using var system = ActorSystem.Create("overload-bench", ConfigurationFactory.ParseString($"akka.loglevel = ERROR\n{ClusterConfig.ShardActorHocon}"));
        try
        {
            var shard = system.ActorOf(ShardActor.Props(host, "logs-0", "bench-node"), "logs-0");
            // Built once and sent again and again (messages are immutable): at 10x capacity, building
            // fresh batches would spend the client's share of the two cores on string formatting
            // instead of offering load.
            var now = DateTimeOffset.UtcNow;
            var batches = Enumerable.Range(0, 64)
                .Select(n => new AppendLogBatch(writer, $"bench.topic{n % 8}", [.. Enumerable.Range(0, BatchSize).Select(i => new LogInput(now, Severity.Info, $"order {n}-{i} accepted for customer {i % 97} via checkout-service"))]))
                .ToArray();
            AppendLogBatch Batch(long n) => batches[n % batches.Length];

            // Capacity: closed loop, every sender waits for its reply.
            var capacity = new Run();
            long sent = 0;
            var clock = Stopwatch.StartNew();
            using (capacity.SampleHeap())
            {
                await Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
                {
                    while (clock.Elapsed.TotalSeconds < seconds)
                    {
                        await capacity.Send(shard, Batch(Interlocked.Increment(ref sent)));
                    }
                }));
            }

            var capacityPerSecond = capacity.Accepted / clock.Elapsed.TotalSeconds;

            // Flood: open loop at 10x the measured capacity, never waiting for replies.
            var flood = new Run();
            var offeredPerSecond = capacityPerSecond * 10;
            var inFlight = new List<Task>();
            var offered = 0L;
            clock.Restart();
            using (flood.SampleHeap())
            {
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    var due = (long)(clock.Elapsed.TotalSeconds * offeredPerSecond);
                    for (; offered < due; offered++)
                    {
                        inFlight.Add(flood.Send(shard, Batch(Interlocked.Increment(ref sent))));
                    }

                    await Task.Delay(5);
                }

                await Task.WhenAll(inFlight);
            }

            var floodSeconds = clock.Elapsed.TotalSeconds;
            offeredPerSecond = offered / floodSeconds;
            var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  capacity: {capacityPerSecond:N0} batches/s of {BatchSize} accepted, latency p50 {capacity.Percentile(0.5):0.0} ms p99 {capacity.Percentile(0.99):0.0} ms, heap peak {capacity.HeapPeakMiB:0.0} MiB"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  flood:    offered {offeredPerSecond:N0} batches/s; accepted {flood.Accepted / floodSeconds:N0}/s, refused cluster.overloaded {flood.Overloaded:N0} ({100.0 * flood.Overloaded / Math.Max(1, flood.Accepted + flood.Overloaded):0.0}%), other failures {flood.Failed:N0}; accepted latency p50 {flood.Percentile(0.5):0.0} ms p99 {flood.Percentile(0.99):0.0} ms (bound ~ {MaxPendingCommands} pending / {capacityPerSecond:N0} per s = {1000.0 * MaxPendingCommands / capacityPerSecond:0} ms); heap peak {flood.HeapPeakMiB:0.0} MiB"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT overload: accepted/capacity {flood.Accepted / floodSeconds / capacityPerSecond:0.00}, refused {flood.Overloaded:N0}, accepted p99 {flood.Percentile(0.99):0.0} ms vs capacity run p99 {capacity.Percentile(0.99):0.0} ms, heap peak {flood.HeapPeakMiB:0.0} vs {capacity.HeapPeakMiB:0.0} MiB; Shards:MaxPendingCommands {MaxPendingCommands}; load average {load}"));
            // The goal: the excess refused, nothing else failing, the accepted rate at least 0.8 of
            // capacity and the accepted latency within what the pending limit allows.
            var bound = 1000.0 * MaxPendingCommands / capacityPerSecond;
            var met = flood.Overloaded > 0 && flood.Failed == 0 && flood.Accepted / floodSeconds >= 0.8 * capacityPerSecond && flood.Percentile(0.99) <= bound;
            Console.WriteLine(met ? "  target met" : "  target NOT met (accepted >= 0.8x capacity, accepted p99 within the pending bound, only cluster.overloaded refusals)");
            return met ? 0 : 1;
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed class Run
    {
        private readonly List<double> _latencies = [];
        private long _accepted;
        private long _overloaded;
        private long _failed;
        private long _heapPeak;

        public long Accepted => Interlocked.Read(ref _accepted);

        public long Overloaded => Interlocked.Read(ref _overloaded);

        public long Failed => Interlocked.Read(ref _failed);

        public double HeapPeakMiB => Interlocked.Read(ref _heapPeak) / (1024.0 * 1024);

        public async Task Send(IActorRef shard, AppendLogBatch batch)
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await shard.Ask<object>(batch, TimeSpan.FromSeconds(120));
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            switch (reply)
            {
                case LogBatchAppended:
                    Interlocked.Increment(ref _accepted);
                    lock (_latencies)
                    {
                        _latencies.Add(ms);
                    }

                    break;
                case IFailureReply { Error.Code: ErrorCodes.Overloaded }:
                    Interlocked.Increment(ref _overloaded);
                    break;
                default:
                    Interlocked.Increment(ref _failed);
                    break;
            }
        }

        public double Percentile(double p)
        {
            lock (_latencies)
            {
                if (_latencies.Count == 0)
                {
                    return double.NaN;
                }

                var sorted = _latencies.Order().ToArray();
                return sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
            }
        }

        // Samples the managed heap every 50 ms until disposed.
        public IDisposable SampleHeap() => new Timer(_ =>
        {
            var heap = GC.GetTotalMemory(false);
            long seen;
            while ((seen = Interlocked.Read(ref _heapPeak)) < heap && Interlocked.CompareExchange(ref _heapPeak, heap, seen) != seen)
            {
            }
        }, null, 0, 50);
    }
}
