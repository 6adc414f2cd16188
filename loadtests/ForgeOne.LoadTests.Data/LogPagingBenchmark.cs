using System.Diagnostics;
using System.Globalization;
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
/// Paging through one topic of N entries (default 10,000,000; --quick 500,000) with pages of
/// 100 and continuation tokens, through the log shard handler on one shard file, as a client
/// reading a whole topic would. Prints p50/p99 of the first and the last 1,000 pages (flat when
/// a page costs O(page + log n), their ratio is the figure) and the managed heap's growth over
/// the whole walk (bounded when a page costs O(page) memory).
/// </summary>
internal static class LogPagingBenchmark
{
    private const int PageSize = 100;
    private const string Topic = "bench.paging";
    // The handler is driven directly (no shard actor), so it gets verified principals as the
    // actor would hand them over; the messages' tokens are never looked at.
    private static readonly Principal Loader = Principal.Of("bench-writer", ["writer"], "bench", ["*"], 0);
    private static readonly Principal Reader = Principal.Of("bench-reader", ["reader"], "bench", ["*"], 0);
    private static readonly PrincipalToken Unchecked = new([]);

    public static int Run(string[] args)
    {
        var entries = args.Contains("--quick") ? 500_000 : 10_000_000;
        var at = Array.IndexOf(args, "--entries");
        if (at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1].Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 2 * PageSize * 1000)
        {
            entries = n;
        }

        NativeLmdb.EnsureInstalled();
        var root = Directory.CreateTempSubdirectory("forgeone-paging-").FullName;
        var dataRoot = Path.Combine(root, "data");
        Directory.CreateDirectory(dataRoot);
        try
        {
            var time = TimeProvider.System;
            using var store = ShardStore.Open(new ShardStoreOptions(dataRoot, ShardKind.Logs, 0, 1) { NoSync = true, InitialMapSize = 1L << 30 });
            using var security = new ShardSecurityFactory(new FileKekProvider(Path.Combine(root, "keys"), dataRoot), new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "keys"), dataRoot), time, "bench"), time).Open(store, ShardKind.Logs, 0);
            var context = new ShardContext(ShardKind.Logs, 0, 1, security, new RecordIdGenerator(0, time), time, Limits.Default);
            var handler = new LogShardHandler();
            var start = time.GetUtcNow().AddDays(-30);
            var load = Stopwatch.StartNew();
            Load(store, security, context, handler, entries, start);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {entries:N0} entries of one topic in {load.Elapsed.TotalSeconds:0.0} s, file {new FileInfo(store.FilePath).Length / 1e9:0.00} GB"));

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            long heapPeak = heapBefore;
            var pages = entries / PageSize;
            var latencies = new List<double>(pages + 1);
            string? token = null;
            long seen = 0;
            var walk = Stopwatch.StartNew();
            var clock = new Stopwatch();
            do
            {
                var q = new QueryLogs(Unchecked, Topic, start.AddDays(-1), start.AddDays(60), Severity.Trace, PageSize, token);
                clock.Restart();
                var admission = handler.Admit(q, Reader, context);
                var reply = admission.Admitted ? store.Read(txn => handler.Read(txn, q, Reader, context)) : new LogFailed(admission.Refusal!);
                clock.Stop();
                if (reply is not LogPage page)
                {
                    Console.Error.WriteLine($"page {latencies.Count}: {((LogFailed)reply).Error}");
                    return 1;
                }

                latencies.Add(clock.Elapsed.TotalMilliseconds);
                seen += page.Entries.Length;
                token = page.ContinuationToken;
                if (latencies.Count % 1000 == 0)
                {
                    // Sampled without forcing a collection: what the process holds while it pages.
                    heapPeak = Math.Max(heapPeak, GC.GetTotalMemory(forceFullCollection: false));
                }
            }
            while (token is not null);

            walk.Stop();
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            var first = latencies.Take(1000).ToList();
            var last = latencies.Skip(Math.Max(0, latencies.Count - 1000)).ToList();
            var growthMiB = (heapPeak - heapBefore) / (1024.0 * 1024.0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT paging {seen:N0} entries of one topic in {latencies.Count:N0} pages of {PageSize} ({walk.Elapsed.TotalSeconds:0.0} s): first 1,000 pages p50 {Percentile(first, 50):0.000} ms p99 {Percentile(first, 99):0.000} ms; last 1,000 pages p50 {Percentile(last, 50):0.000} ms p99 {Percentile(last, 99):0.000} ms; last/first p50 {Percentile(last, 50) / Percentile(first, 50):0.00}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT managed heap: {heapBefore / 1048576.0:0.0} MiB before, peak {heapPeak / 1048576.0:0.0} MiB while paging (growth {growthMiB:0.0} MiB, target < 50), {heapAfter / 1048576.0:0.0} MiB after; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
            return seen == entries && growthMiB < 50 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static double Percentile(List<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    // 1,000-entry batches through the handler, 20 batches per write transaction.
    private static void Load(ShardStore store, IShardSecurity security, ShardContext context, LogShardHandler handler, int entries, DateTimeOffset start)
    {
        var step = TimeSpan.FromDays(30).Ticks / entries;
        var progress = Stopwatch.StartNew();
        for (var i = 0; i < entries;)
        {
            var batches = new List<(AppendLogBatch, Admission)>();
            for (var b = 0; b < 20 && i < entries; b++)
            {
                var inputs = new LogInput[Math.Min(1000, entries - i)];
                for (var k = 0; k < inputs.Length; k++, i++)
                {
                    inputs[k] = new LogInput(start + TimeSpan.FromTicks(step * i), Severity.Info, $"order {i} accepted for customer {i % 9973} via checkout-service");
                }

                var batch = new AppendLogBatch(Unchecked, Topic, inputs);
                var admission = handler.Admit(batch, Loader, context);
                batches.Add((batch, admission.Admitted ? admission : throw new ForgeOneException(admission.Refusal!)));
            }

            var appender = store.Write(txn =>
            {
                var audit = security.BeginAudit();
                foreach (var (batch, admission) in batches)
                {
                    handler.Apply(txn, batch, Loader, context);
                    audit.Append(txn, context.Time.GetUtcNow(), Loader.Id, admission.Action, admission.Resource, AuditOutcome.Success, admission.Detail);
                }

                return audit;
            });
            security.CommitAudit(appender);
            if (progress.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loaded {i:N0} / {entries:N0}"));
                progress.Restart();
            }
        }
    }
}
