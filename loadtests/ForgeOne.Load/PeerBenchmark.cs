using System.Diagnostics;
using System.Globalization;
using System.Text;
using ForgeOne.Load.Peers;
using ForgeOne.LoadRunner;

namespace ForgeOne.Load;

/// <summary>
/// The side-by-side peer benchmark: the same log entries (200-byte messages with topic and
/// timestamp, AES-256-GCM, indexed by topic + time, SHA-256 chained audit) committed in batches
/// of 1,000 and of 100 by ForgeOne (a node in its own process, driven through the actor client
/// from this one), PostgreSQL, SQLite and raw LMDB, each into fresh storage; then topic + 1 h
/// range queries whose result counts are checked against the workload. Writes Markdown and CSV
/// to the results folder. <c>loadtests/peers.sh</c> starts and removes the PostgreSQL server.
/// </summary>
public static class PeerBenchmark
{
    private const string Usage = "usage: forgeone-load peers [--entries N | --quick] [--topics N] [--queries N] [--batches 1000,100] [--postgres CONNSTRING] [--systems forgeone,forgeone-http,postgres,sqlite,lmdb] [--forgeone-inflight N] [--out DIR]";

    /// <summary>
    /// One system's figures at one batch size. <c>CpuMicrosPerEntry</c> is the CPU time of every
    /// process involved (this one, the node or database server) per ingested entry.
    /// </summary>
    public sealed record Result(string System, int Batch, double EntriesPerSecond, LatencySummary Commit, LatencySummary Query, double CpuMicrosPerEntry, string Description);

    /// <summary>Runs the benchmark; 0 when every system stored and returned exactly the workload's entries.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        int entries = 1_000_000, topics = 100, queries = 200, inFlight = 16;
        int[] batches = [1000, 100];
        string? postgres = null;
        var serverPids = new List<int>();
        string[] systems = ["forgeone", "forgeone-http", "postgres", "sqlite", "lmdb"];
        var outDir = DefaultResults();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--entries": entries = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--quick": entries = 200_000; queries = 100; break;
                    case "--topics": topics = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--queries": queries = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--batches": batches = Value().Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(); break;
                    case "--postgres": postgres = Value(); break;
                    case "--server-pid": serverPids.Add(int.Parse(Value(), CultureInfo.InvariantCulture)); break;
                    case "--systems": systems = Value().Split(','); break;
                    case "--forgeone-inflight": inFlight = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--out": outDir = Value(); break;
                    default: throw new ArgumentException($"unknown option '{args[i]}'");
                }
            }

            if (entries <= 0 || topics <= 0 || queries <= 0 || inFlight <= 0 || batches.Any(b => b <= 0 || b > 10_000))
            {
                throw new ArgumentException("counts must be positive, batches 1..10000");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await error.WriteLineAsync(e.Message + "\n" + Usage).ConfigureAwait(false);
            return Cli.Usage;
        }

        if (systems.Contains("postgres") && postgres is null)
        {
            await output.WriteLineAsync("PostgreSQL skipped: no --postgres connection string (loadtests/peers.sh starts a server and passes one).").ConfigureAwait(false);
            systems = systems.Where(s => s != "postgres").ToArray();
        }

        var loadBefore = Cli.LoadAverage();
        var origin = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero) - TimeSpan.FromDays(2);
        var results = new List<Result>();
        var problems = new List<string>();
        await output.WriteLineAsync($"peer benchmark: {entries:N0} entries of 200 bytes over {topics} topics, batches of {string.Join(" and ", batches)}, {queries} topic + 1 h queries; load average {loadBefore}").ConfigureAwait(false);
        foreach (var batch in batches)
        {
            var workload = PeerWorkload.Create(entries, topics, batch, queries, origin);
            var warmUp = PeerWorkload.Create(Math.Max(batch * 20, entries / 50), topics, batch, 1, origin, seed: 2);
            foreach (var name in systems)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scratch = Directory.CreateTempSubdirectory("forgeone-peer-");
                try
                {
                    // A system that fails is reported and the others still run.
                    var (system, cleanup, pids) = await CreateAsync(name, scratch.FullName, postgres, inFlight, output, cancellationToken).ConfigureAwait(false);
                    var measured = name == "postgres" ? [.. pids, .. serverPids] : pids;
                    try
                    {
                        await output.WriteLineAsync($"  {system.Name}, batches of {batch}: warm-up...").ConfigureAwait(false);
                        await IngestAsync(system, warmUp.Batches.Select(b => b with { Topic = b.Topic + 10_000 }).ToArray(), cancellationToken).ConfigureAwait(false);
                        var cpuBefore = CpuMeter.Seconds(measured);
                        var ownBefore = CpuMeter.Seconds([]);
                        var (rate, commit) = await IngestAsync(system, workload.Batches, cancellationToken).ConfigureAwait(false);
                        var cpu = (CpuMeter.Seconds(measured) - cpuBefore) * 1e6 / workload.Entries;
                        var own = (CpuMeter.Seconds([]) - ownBefore) * 1e6 / workload.Entries;
                        var (query, wrong) = await QueryAsync(system, workload.Queries).ConfigureAwait(false);
                        problems.AddRange(wrong.Select(w => $"{system.Name}, batches of {batch}: {w}"));
                        results.Add(new Result(system.Name, batch, rate, commit, query, cpu, system.Description));
                        await output.WriteLineAsync($"  {system.Name}, batches of {batch}: {rate,12:N0} entries/s, commit p50 {Ms(commit.P50Us)} p99 {Ms(commit.P99Us)} ms, query p50 {Ms(query.P50Us)} p99 {Ms(query.P99Us)} ms, {cpu:0.0} us CPU/entry ({own:0.0} in this process)").ConfigureAwait(false);
                    }
                    finally
                    {
                        await system.DisposeAsync().ConfigureAwait(false);
                        await cleanup().ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    problems.Add($"{name}, batches of {batch}: failed: {e.GetType().Name}: {e.Message}");
                    await error.WriteLineAsync($"  {name}, batches of {batch} failed: {e}").ConfigureAwait(false);
                }
                finally
                {
                    TryDelete(scratch);
                }
            }
        }

        var markdown = Markdown(results, entries, topics, queries, loadBefore, Cli.LoadAverage(), problems);
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "peer-benchmark.md"), markdown, CancellationToken.None).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(outDir, "peer-benchmark.csv"), Csv(results), CancellationToken.None).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"written to {Path.GetFullPath(outDir)}/peer-benchmark.md and .csv").ConfigureAwait(false);
        foreach (var p in problems)
        {
            await error.WriteLineAsync("WRONG RESULT: " + p).ConfigureAwait(false);
        }

        return problems.Count == 0 ? Cli.Passed : Cli.Failed;
    }

    private static async Task<(IPeerSystem System, Func<ValueTask> Cleanup, int[] Pids)> CreateAsync(string name, string scratch, string? postgres, int inFlight, TextWriter output, CancellationToken cancellationToken)
    {
        var keys = Path.Combine(scratch, "keys");
        switch (name)
        {
            case "forgeone":
                {
                    var target = await LoadTarget.StartAsync(TargetDefinition.Default, output, cancellationToken).ConfigureAwait(false);
                    var client = await target.ConnectAsync().ConfigureAwait(false);
                    int[] pids = target is ChildNodeTarget node ? [node.Pid] : [];
                    return (new ForgeOneActorSystem(client, target.Identity, inFlight), async () =>
                    {
                        await client.DisposeAsync().ConfigureAwait(false);
                        await target.DisposeAsync().ConfigureAwait(false);
                    }, pids);
                }

            case "forgeone-http":
                {
                    var target = await LoadTarget.StartAsync(TargetDefinition.Default, output, cancellationToken).ConfigureAwait(false);
                    int[] pids = target is ChildNodeTarget node ? [node.Pid] : [];
                    return (new ForgeOneHttpSystem(target.ConnectHttp(), inFlight), () => target.DisposeAsync(), pids);
                }

            case "postgres":
                return (await PostgresSystem.CreateAsync(postgres!, keys).ConfigureAwait(false), () => ValueTask.CompletedTask, []);
            case "sqlite":
                return (await SqliteSystem.CreateAsync(scratch, keys).ConfigureAwait(false), () => ValueTask.CompletedTask, []);
            case "lmdb":
                return (RawLmdbSystem.Create(scratch), () => ValueTask.CompletedTask, []);
            default:
                throw new ArgumentException($"unknown system '{name}' (forgeone, forgeone-http, postgres, sqlite, lmdb)");
        }
    }

    // The system's writers take batches from one queue until it is empty; entries/s over the wall time.
    private static async Task<(double EntriesPerSecond, LatencySummary Commit)> IngestAsync(IPeerSystem system, IReadOnlyList<PeerBatch> batches, CancellationToken cancellationToken)
    {
        var stats = new StatsCollector();
        var next = -1;
        var writers = new List<IPeerWriter>();
        for (var w = 0; w < system.Writers; w++)
        {
            writers.Add(await system.OpenWriterAsync(w).ConfigureAwait(false));
        }

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(writers.Select(writer => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var started = Stopwatch.GetTimestamp();
                await writer.WriteAsync(batches[index]).ConfigureAwait(false);
                stats.Record(StepResult.Ok(), (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        }, cancellationToken))).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        foreach (var writer in writers)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }

        return (batches.Sum(b => b.Messages.Length) / elapsed.TotalSeconds, stats.Snapshot("ingest", elapsed).Latency);
    }

    private static async Task<(LatencySummary Latency, List<string> Wrong)> QueryAsync(IPeerSystem system, IReadOnlyList<PeerQuery> queries)
    {
        foreach (var q in queries.Take(20))
        {
            await system.QueryAsync(q).ConfigureAwait(false); // warm-up: JIT, prepared statements, first pages
        }

        var stats = new StatsCollector();
        var wrong = new List<string>();
        foreach (var q in queries)
        {
            var started = Stopwatch.GetTimestamp();
            var n = await system.QueryAsync(q).ConfigureAwait(false);
            stats.Record(StepResult.Ok(), (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            if (n != q.Expected)
            {
                wrong.Add($"query topic {q.Topic} from {new DateTime(q.FromTicks, DateTimeKind.Utc):O} returned {n} entries, expected {q.Expected}");
            }
        }

        return (stats.Snapshot("query", TimeSpan.FromSeconds(1)).Latency, wrong);
    }

    private static string Markdown(List<Result> results, int entries, int topics, int queries, string loadBefore, string loadAfter, List<string> problems)
    {
        var sb = new StringBuilder();
        sb.Append("# Peer benchmark: durable log ingest and range queries, side by side\n\n");
        sb.Append(Inv($"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}. Load average (1/5/15 min, shared machine) before: {loadBefore}; after: {loadAfter}.\n\n"));
        sb.Append(Inv($"Workload, identical for every system: {entries:N0} log entries with a 200-byte message, a topic ({topics} topics) and a timestamp (24 h spread), "));
        sb.Append("committed durably (fsync) in batches; each entry encrypted with AES-256-GCM (ForgeOne's `RecordCipher`, libsodium AES-NI, for every system but raw LMDB), ");
        sb.Append("indexed by (topic, time) and covered by a SHA-256 hash chain. Then ");
        sb.Append(Inv($"{queries} topic + 1 h range queries (up to 1,000 entries each, decrypted), every result count checked against the workload. "));
        sb.Append("Commit latency is one batch's write as its writer sees it; entries/s is over the whole ingest's wall time. ");
        sb.Append("CPU us/entry is the CPU time of every process involved (the benchmark's, and the ForgeOne node's or the PostgreSQL server's) per entry: on a shared machine it is the figure other load moves least. ");
        sb.Append("Each system starts from empty storage after a short warm-up.\n\n");
        foreach (var batch in results.Select(r => r.Batch).Distinct())
        {
            var rows = results.Where(r => r.Batch == batch).ToArray();
            var forgeOne = rows.FirstOrDefault(r => r.System == "ForgeOne (actor client)");
            var forgeOneHttp = rows.FirstOrDefault(r => r.System == "ForgeOne (HTTP)");
            sb.Append(Inv($"## Batches of {batch:N0}\n\n"));
            sb.Append("| system | entries/s | commit p50 ms | commit p99 ms | query p50 ms | query p99 ms | CPU us/entry | ForgeOne actor client / system |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
            foreach (var r in rows)
            {
                var ratio = forgeOne is null || r.System.StartsWith("ForgeOne", StringComparison.Ordinal) ? "" : Inv($"{forgeOne.EntriesPerSecond / r.EntriesPerSecond:0.00}x");
                sb.Append(Inv($"| {r.System} | {r.EntriesPerSecond:N0} | {Ms(r.Commit.P50Us)} | {Ms(r.Commit.P99Us)} | {Ms(r.Query.P50Us)} | {Ms(r.Query.P99Us)} | {r.CpuMicrosPerEntry:0.0} | {ratio} |\n"));
            }

            sb.Append('\n');
            if (forgeOne is not null)
            {
                sb.Append("Targets: ");
                sb.Append(string.Join("; ", new (string Prefix, double Target, string Label)[] { ("PostgreSQL", 4, "PostgreSQL"), ("SQLite", 3, "SQLite"), ("raw LMDB", 0.4, "raw LMDB") }
                    .Select(t => rows.FirstOrDefault(r => r.System.StartsWith(t.Prefix, StringComparison.Ordinal)) is { } peer
                        ? Inv($"actor client >= {t.Target}x {t.Label}: {(forgeOne.EntriesPerSecond / peer.EntriesPerSecond >= t.Target ? "met" : "NOT met")} ({forgeOne.EntriesPerSecond / peer.EntriesPerSecond:0.00}x)")
                        : $"{t.Label}: not run")));
                var pg = rows.FirstOrDefault(r => r.System.StartsWith("PostgreSQL", StringComparison.Ordinal));
                sb.Append(forgeOneHttp is not null && pg is not null
                    ? Inv($"; HTTP >= 3x PostgreSQL: {(forgeOneHttp.EntriesPerSecond / pg.EntriesPerSecond >= 3 ? "met" : "NOT met")} ({forgeOneHttp.EntriesPerSecond / pg.EntriesPerSecond:0.00}x).\n\n")
                    : "; HTTP >= 3x PostgreSQL: not run.\n\n");
            }
        }

        sb.Append("## What each system does\n\n");
        foreach (var r in results.DistinctBy(r => r.System))
        {
            sb.Append("- **").Append(r.System).Append("**: ").Append(r.Description).Append(".\n");
        }

        sb.Append("\nForgeOne also validates and authorizes every batch, content-hashes every entry (SHA-256), encrypts the message twice (field key, then record key) ");
        sb.Append("and writes one audit record per batch operation into its per-shard SHA-256 chain; the SQL peers write one chained audit row per entry.\n");
        if (problems.Count > 0)
        {
            sb.Append("\n## WRONG RESULTS\n\n").Append(string.Join("\n", problems.Select(p => "- " + p))).Append('\n');
        }

        return sb.ToString();
    }

    private static string Csv(List<Result> results)
    {
        var sb = new StringBuilder("system,batch,entries_per_s,commit_p50_ms,commit_p99_ms,query_p50_ms,query_p99_ms,cpu_us_per_entry\n");
        foreach (var r in results)
        {
            sb.Append(Inv($"\"{r.System}\",{r.Batch},{r.EntriesPerSecond:0},{Ms(r.Commit.P50Us)},{Ms(r.Commit.P99Us)},{Ms(r.Query.P50Us)},{Ms(r.Query.P99Us)},{r.CpuMicrosPerEntry:0.0}\n"));
        }

        return sb.ToString();
    }

    private static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }

        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return Inv($"{Environment.ProcessorCount} cores ({cpu}), {memory:0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }

    private static string DefaultResults()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        return dir is null ? "results" : Path.Combine(dir.FullName, "loadtests", "results");
    }

    private static void TryDelete(DirectoryInfo dir)
    {
        try
        {
            dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("0.00", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
