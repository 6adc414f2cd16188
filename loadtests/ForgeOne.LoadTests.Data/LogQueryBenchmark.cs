using System.Diagnostics;
using System.Globalization;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.LoadRunner;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.LoadTests.Data;

/// <summary>
/// Log query latency (topic + 1-hour range) over a large shard. The data set: N entries over
/// T topics, evenly spread over 30 days ending now, so a topic's hour holds about
/// N / (T * 720) entries (139 at the defaults). Every query returns one whole hour (one page).
/// </summary>
internal static class LogQueryBenchmark
{
    // The handler is driven directly (no shard actor), so it gets verified principals as the
    // actor would hand them over; the messages' tokens are never looked at.
    private static readonly Principal Loader = Principal.Of("bench-writer", ["writer"], "bench", ["*"], 0);
    private static readonly Principal Reader = Principal.Of("bench-reader", ["reader"], "bench", ["*"], 0);
    private static readonly PrincipalToken Unchecked = new([]);
    private static readonly TimeSpan Span = TimeSpan.FromDays(30);

    public static async Task<int> RunAsync(string[] args)
    {
        var entries = Option(args, "--entries", args.Contains("--quick") ? 200_000 : 10_000_000);
        var topics = Option(args, "--topics", 100);
        var seconds = Option(args, "--seconds", args.Contains("--quick") ? 10 : 30);
        var keep = OptionString(args, "--keep");
        NativeLmdb.EnsureInstalled();
        var root = keep ?? Directory.CreateTempSubdirectory("forgeone-logbench-").FullName;
        var dataRoot = Path.Combine(root, "data");
        var keys = Path.Combine(root, "keys");
        Directory.CreateDirectory(dataRoot);
        try
        {
            var time = TimeProvider.System;
            using var store = ShardStore.Open(new ShardStoreOptions(dataRoot, ShardKind.Logs, 0, 1) { NoSync = true, InitialMapSize = 1L << 30 });
            using var security = new ShardSecurityFactory(new FileKekProvider(keys, dataRoot), new NodeSecurity(AuthenticationKeyring.LoadOrCreate(keys, dataRoot), time, "bench"), time).Open(store, ShardKind.Logs, 0);
            var context = new ShardContext(ShardKind.Logs, 0, 1, security, new RecordIdGenerator(0, time), time, Limits.Default);
            var handler = new LogShardHandler();
            var end = time.GetUtcNow();
            var start = end - Span;

            var existing = store.Read(txn => txn.Count(Tables.Logs));
            var load = Stopwatch.StartNew();
            if (existing == 0)
            {
                Load(store, security, context, handler, entries, topics, start);
            }
            else
            {
                Console.WriteLine($"reusing {existing:N0} entries in {store.FilePath}");
                entries = (int)existing;
            }

            load.Stop();
            var fileBytes = new FileInfo(store.FilePath).Length;
            var perHour = entries / (double)topics / Span.TotalHours;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {entries:N0} entries over {topics} topics in {load.Elapsed.TotalSeconds:0.0} s ({entries / load.Elapsed.TotalSeconds:N0} entries/s), file {fileBytes / 1e9:0.00} GB, ~{perHour:0} entries per topic-hour"));

            long returned = 0;
            var query = new Scenario("logs-query-topic-1h", _ =>
            {
                var topic = $"bench.topic{Random.Shared.Next(topics)}";
                var from = start + TimeSpan.FromHours(Random.Shared.Next((int)Span.TotalHours - 1));
                var q = new QueryLogs(Unchecked, topic, from, from.AddHours(1), Severity.Trace, Limit: LogShardHandler.MaxRangeLimit);
                var admission = handler.Admit(q, Reader, context);
                if (!admission.Admitted)
                {
                    return ValueTask.FromResult(StepResult.Fail(admission.Refusal!.Code));
                }

                var reply = store.Read(txn => handler.Read(txn, q, Reader, context));
                if (reply is not LogPage page || page.ContinuationToken is not null)
                {
                    return ValueTask.FromResult(StepResult.Fail(reply is LogFailed f ? f.Error.Code : "partial page"));
                }

                Interlocked.Add(ref returned, page.Entries.Length);
                return ValueTask.FromResult(StepResult.Ok(page.Entries.Sum(e => (long)e.Message.Length)));
            }).WithLoadSimulations(
                Simulation.KeepConstant(1, TimeSpan.FromSeconds(3)), // warm-up: tier-1 code, page cache
                Simulation.KeepConstant(1, TimeSpan.FromSeconds(seconds)));
            var warmupAndRun = await new ScenarioRunner(new LoadRunnerOptions { Name = "logs-query", ReportFolder = Path.Combine(root, "reports"), MaxDuration = TimeSpan.FromSeconds(seconds + 60) }).RunAsync([query]);
            var s = warmupAndRun.Scenarios[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT logs query (topic + 1 h) over {entries:N0} entries: p50 {LatencySummary.ToMs(s.Latency.P50Us):0.000} ms, p99 {LatencySummary.ToMs(s.Latency.P99Us):0.000} ms, max {LatencySummary.ToMs(s.Latency.MaxUs):0.000} ms, {s.OkRps:0} queries/s on one thread, {returned / (double)Math.Max(1, s.Ok):0} entries per query, {s.Fail} failed"));
            return s.Fail == 0 ? 0 : 1;
        }
        finally
        {
            if (keep is null)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    // Big group commits through the handler: each write transaction holds one 1,000-entry
    // batch per topic (AppendLogBatch, validated and authorized by Admit), plus the batch's one
    // audit record, exactly like the shard actor's group commit.
    private static void Load(ShardStore store, IShardSecurity security, ShardContext context, LogShardHandler handler, int entries, int topics, DateTimeOffset start)
    {
        const int PerBatch = 1000;
        var step = Span.Ticks / entries;
        var severities = Enum.GetValues<Severity>();
        var progress = Stopwatch.StartNew();
        var i = 0;
        while (i < entries)
        {
            var batches = new List<(AppendLogBatch Batch, Admission Admission)>();
            var perTopic = new List<LogInput>[topics];
            var chunk = Math.Min(entries - i, PerBatch * topics);
            for (var k = 0; k < chunk; k++, i++)
            {
                var t = i % topics;
                (perTopic[t] ??= new List<LogInput>(PerBatch)).Add(new LogInput(
                    start + TimeSpan.FromTicks(step * i),
                    severities[i % severities.Length],
                    $"order {i} accepted for customer {i % 9973} amount {i % 1000}.{i % 100:D2} EUR via checkout-service",
                    new Dictionary<string, string> { ["host"] = $"web-{i % 17}", ["trace"] = i.ToString("x16", CultureInfo.InvariantCulture) }));
            }

            for (var t = 0; t < topics; t++)
            {
                if (perTopic[t] is { } list)
                {
                    var batch = new AppendLogBatch(Unchecked, $"bench.topic{t}", [.. list]);
                    var admission = handler.Admit(batch, Loader, context);
                    if (!admission.Admitted)
                    {
                        throw new ForgeOneException(admission.Refusal!);
                    }

                    batches.Add((batch, admission));
                }
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
            if (progress.Elapsed > TimeSpan.FromSeconds(15))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loaded {i:N0} / {entries:N0}"));
                progress.Restart();
            }
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1].Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;
    }

    private static string? OptionString(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
