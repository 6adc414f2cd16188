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
/// Sustained batched ingest into one durable log shard actor (fsync per commit), 32 senders
/// each keeping one 100-entry batch in flight: a clean run, then a run in which 1% of the
/// batches fail in their transaction after writing (the hardest kind: the attempt must be
/// aborted), each on a fresh file. Prints both throughputs and their ratio (target >= 0.8).
/// </summary>
internal static class PoisonBenchmark
{
    private const int Senders = 32;
    private const int BatchSize = 100;
    private static readonly Principal WriterPrincipal = Principal.Of("bench-writer", ["writer"], "bench", ["*"], 0);

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Contains("--quick") ? 8 : 20;
        NativeLmdb.EnsureInstalled();
        var clean = await Ingest(seconds, poisonEvery: 0);
        var poisoned = await Ingest(seconds, poisonEvery: 100);
        var ratio = poisoned.EntriesPerSecond / clean.EntriesPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT poison: clean {clean.EntriesPerSecond:N0} entries/s ({clean.Commits:N0} commits); 1% of batches failing after writing {poisoned.EntriesPerSecond:N0} entries/s ({poisoned.Commits:N0} commits, {poisoned.Failed:N0} batches refused); ratio {ratio:0.00} (target >= 0.8); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        return ratio >= 0.8 ? 0 : 1;
    }

    private static async Task<(double EntriesPerSecond, long Commits, long Failed)> Ingest(int seconds, int poisonEvery)
    {
        var root = Directory.CreateTempSubdirectory("forgeone-poison-").FullName;
        var dataRoot = Path.Combine(root, "data");
        Directory.CreateDirectory(dataRoot);
        var node = new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "keys"), dataRoot), TimeProvider.System, "bench-node");
        var writer = node.Issuer.Issue(WriterPrincipal, "bench", TokenIssuer.MaxLifetime).Token;
        var host = new ShardHost(
            dataRoot,
            new ShardCounts(1, 1, 1),
            new ShardOptions(),
            new ShardSecurityFactory(new FileKekProvider(Path.Combine(root, "keys"), dataRoot), node, TimeProvider.System),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Logs] = new PoisonedLogs() },
            TimeProvider.System,
            Limits.Default);
        using var system = ActorSystem.Create("poison-bench", ConfigurationFactory.ParseString($"akka.loglevel = ERROR\n{ClusterConfig.ShardActorHocon}"));
        try
        {
            var shard = system.ActorOf(ShardActor.Props(host, "logs-0", "bench-node"), "logs-0");
            long ok = 0, failed = 0, sent = 0;
            var deadline = Stopwatch.StartNew();
            var warmUp = TimeSpan.FromSeconds(2);
            var window = TimeSpan.FromSeconds(seconds) + warmUp;
            long okAtWarmUp = -1;
            var measured = new Stopwatch();
            var senders = Enumerable.Range(0, Senders).Select(async s =>
            {
                while (deadline.Elapsed < window)
                {
                    var n = Interlocked.Increment(ref sent);
                    var poison = poisonEvery > 0 && n % poisonEvery == 0;
                    var now = DateTimeOffset.UtcNow;
                    var entries = Enumerable.Range(0, BatchSize).Select(i => new LogInput(now, Severity.Info, $"order {n}-{i} accepted for customer {i % 97} via checkout-service")).ToArray();
                    var reply = await shard.Ask<object>(new AppendLogBatch(writer, poison ? PoisonedLogs.Topic : $"bench.topic{s % 8}", entries), TimeSpan.FromSeconds(60));
                    if (reply is LogBatchAppended)
                    {
                        Interlocked.Add(ref ok, BatchSize);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }

                    if (deadline.Elapsed >= warmUp && Interlocked.CompareExchange(ref okAtWarmUp, Interlocked.Read(ref ok), -1) == -1)
                    {
                        measured.Start();
                    }
                }
            }).ToList();
            await Task.WhenAll(senders);
            measured.Stop();
            var stats = await shard.Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(node.Identity.Current, ShardKind.Logs, 0), TimeSpan.FromSeconds(30));
            var rate = (ok - okAtWarmUp) / measured.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(poisonEvery == 0 ? "clean" : "1% poisoned")}: {rate:N0} entries/s over {measured.Elapsed.TotalSeconds:0.0} s"));
            return (rate, stats.CommitCount, failed);
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The log handler, except that a batch to <see cref="Topic"/> throws after it has written its entries.</summary>
    private sealed class PoisonedLogs : IShardHandler
    {
        public const string Topic = "bench.poison";
        private readonly LogShardHandler _inner = new();

        public ShardKind Kind => ShardKind.Logs;

        public Admission Admit(IShardOperation operation, Principal principal, ShardContext context) => _inner.Admit(operation, principal, context);

        public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context)
        {
            var reply = _inner.Apply(txn, command, principal, context);
            return command is AppendLogBatch { Topic: Topic }
                ? throw new ForgeOneException(ErrorCodes.Conflict, "poisoned after writing")
                : reply;
        }

        public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) => _inner.Read(txn, query, principal, context);

        public object Fail(ForgeOneError error) => _inner.Fail(error);
    }
}
