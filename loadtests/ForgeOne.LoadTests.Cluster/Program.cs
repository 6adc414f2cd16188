// Single-node log ingest benchmark (issue 4):
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Cluster [-- --seconds 10 --nosync]
//   ... -- --cross-process [--rounds 3]   the client in its own process, TLS off vs on (CrossProcessIngest.cs)
//   ... -- --micro                        CPU cost of each step of one append
//
// Path A "sharding": an in-process actor client asks the logs shard region; every request's
//   principal token is verified (HMAC-SHA256, cached), and it is validated, authorized,
//   encrypted (AES-256-GCM), indexed (blind topic index) and audited (one audit record per
//   operation) inside the shard actor's group commit.
// Path A' "sharding, proof check off": the same on a second node whose shards believe any
//   well-formed token (ForgeOne:Security:VerifyTokens = false): what the proof check costs.
//   --proof-check on|off|both picks which of A and A' run (default both).
// Path B "direct": the same records (StoredLogEntry, RecordCipher, blind index key) written
//   straight through ShardStore, one transaction per call, one store per shard with the same
//   shard count, no actors, no validation, no authorization, no audit.
// Each path runs with single entries and with batches of 100 (one operation, one audit record).
// Throughput is measured closed-loop (KeepConstant); latency at a fixed offered rate (Inject at
// half the slower path's throughput, so both paths are below saturation), HdrHistogram p50/p99.
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.LoadRunner;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;

var seconds = IntArg("--seconds", 10);
var noSync = args.Contains("--nosync");
const int shards = 8;
const int batchSize = 100;
const int topics = 256;
var phase = TimeSpan.FromSeconds(seconds);
var root = Path.Combine(Path.GetTempPath(), "forgeone-bench", Guid.NewGuid().ToString("N"));
var message = new string('m', 200);
var proofCheck = StringArg("--proof-check", "both");
var topicNames = Enumerable.Range(0, topics).Select(i => $"bench-topic-{i:D3}").ToArray();

if (args.Contains("--cross-process"))
{
    await CrossProcessIngest.RunAsync(seconds, noSync, IntArg("--rounds", 1));
    return;
}

if (args.Contains("--micro"))
{
    MicroCosts.Run(root);
    return;
}

Console.WriteLine($"ForgeOne cluster ingest benchmark: {Environment.ProcessorCount} cores, {shards} log shards, 200-byte messages, fsync {(noSync ? "OFF (--nosync)" : "ON")}, {seconds}s per phase");
Console.WriteLine($"data: {root}");

// ---- path A (and A'): single-node clusters, client = the logs region of the same actor system ----
var keysDirectory = Path.Combine(root, "keys");
var kek = new FileKekProvider(keysDirectory, Path.Combine(root, "cluster"));
var authKeys = AuthenticationKeyring.LoadOrCreate(keysDirectory);
var writer = new TokenIssuer(authKeys, TimeProvider.System).Issue(Principal.Of("bench", ["writer"], "acme", ["*"], 0), "bench", TimeSpan.FromHours(1)).Token;
var timeout = TimeSpan.FromSeconds(30);
var running = new List<ActorSystem>();
(ForgeOneNodeOptions Options, ShardHost Host, AuditSigner Signer, NodeSecurity Security)? lastNode = null;

async Task<IActorRef> StartNode(string name, bool verifyTokens)
{
    var options = new ForgeOneNodeOptions
    {
        Port = 0,
        Roles = [ForgeOneNodeOptions.StorageRole],
        DataRoot = Path.Combine(root, name),
        KeysDirectory = keysDirectory,
        ShardCounts = new ShardCountOptions { Logs = shards, Events = 1, Blobs = 1 },
        Shards = new ShardOptions { NoSync = noSync, MaxGroupCommit = 8192 },
        Singletons = new SingletonOptions { SealInterval = TimeSpan.FromMinutes(10) },
        Security = new SecurityOptions { VerifyTokens = verifyTokens },
    };
    Directory.CreateDirectory(options.DataRoot);
    var system = ClusterConfig.CreateSystem(options, ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
    running.Add(system);
    var security = new NodeSecurity(authKeys, TimeProvider.System, name, verifyTokens: options.Security.VerifyTokens);
    var host = new ShardHost(options.DataRootFull, options.ShardCounts.ToCounts(), options.Shards,
        new ShardSecurityFactory(kek, security, TimeProvider.System),
        ShardHandlers.CreateDefault(),
        TimeProvider.System, Limits.Default);
    var signer = AuditSigner.LoadOrCreate(options.KeysDirectoryFull, options.DataRootFull);
    var cluster = await ForgeOneCluster.StartAsync(system, options, host, signer, TimeSpan.FromSeconds(60), security);
    if (verifyTokens || lastNode is null)
    {
        // The scrubber rounds below reopen this node's data root (the verifying node's when both run).
        lastNode = (options, host, signer, security);
    }

    return cluster.Region(ShardKind.Logs);
}

var verified = proofCheck is "on" or "both" ? await StartNode("cluster", verifyTokens: true) : null;
var unverified = proofCheck is "off" or "both" ? await StartNode("cluster-unverified", verifyTokens: false) : null;
var region = verified ?? unverified!;

LogInput Entry() => new(DateTimeOffset.UtcNow, Severity.Info, message);
Func<ScenarioContext, ValueTask<StepResult>> Single(IActorRef target) => async ctx =>
{
    var reply = await target.Ask<object>(new AppendLog(writer, topicNames[ctx.InvocationNumber % topics], Entry()), timeout);
    return reply is LogAppended ? StepResult.Ok(200) : StepResult.Fail((reply as LogFailed)?.Error.Code ?? reply.GetType().Name);
};

Func<ScenarioContext, ValueTask<StepResult>> Batch(IActorRef target) => async ctx =>
{
    var batch = new LogInput[batchSize];
    for (var i = 0; i < batch.Length; i++)
    {
        batch[i] = Entry();
    }

    var reply = await target.Ask<object>(new AppendLogBatch(writer, topicNames[ctx.InvocationNumber % topics], batch), timeout);
    return reply is LogBatchAppended ? StepResult.Ok(200 * batchSize) : StepResult.Fail((reply as LogFailed)?.Error.Code ?? reply.GetType().Name);
};
var ShardSingle = Single(region);
var ShardBatch = Batch(region);

// The same batches, each carrying a client request id: the shard de-duplicates and records the
// outcome (requests + request_expiry tables) in the batch's own transaction.
var producer = "bench-" + Guid.NewGuid().ToString("N")[..8];
long requestSequence = 0;
async ValueTask<StepResult> ShardBatchIdempotent(ScenarioContext ctx)
{
    var batch = new LogInput[batchSize];
    for (var i = 0; i < batch.Length; i++)
    {
        batch[i] = Entry();
    }

    var id = new RequestId(producer, Interlocked.Increment(ref requestSequence));
    var reply = await region.Ask<object>(new AppendLogBatch(writer, topicNames[ctx.InvocationNumber % topics], batch, RequestId: id), timeout);
    return reply is LogBatchAppended { Replayed: false } ? StepResult.Ok(200 * batchSize) : StepResult.Fail((reply as LogFailed)?.Error.Code ?? reply.GetType().Name);
}

// ---- path B: the same records straight through ShardStore + encryption ----
var direct = Enumerable.Range(0, shards).Select(n => DirectShard.Open(Path.Combine(root, "direct"), n, shards, kek, noSync)).ToArray();
ValueTask<StepResult> DirectCall(ScenarioContext ctx, int count)
{
    var topic = topicNames[ctx.InvocationNumber % topics];
    direct[ShardRouter.ShardFor(topic, shards)].Append(topic, message, count);
    return ValueTask.FromResult(StepResult.Ok(200L * count));
}

// ---- runs ----
var results = new Dictionary<string, (double EntriesPerSecond, LatencySummary Latency, long Fail)>();
var cpuPerEntry = new Dictionary<string, double>();
async Task<ScenarioStats> Run(string name, Func<ScenarioContext, ValueTask<StepResult>> step, LoadSimulation simulation, int maxInFlight)
{
    var report = await new ScenarioRunner(new LoadRunnerOptions
    {
        Name = name,
        MaxInFlight = maxInFlight,
        MaxDuration = phase + TimeSpan.FromSeconds(30),
        ReportFolder = null,
        Console = null,
    }).RunAsync([new Scenario(name, step).WithLoadSimulations(simulation)]);
    var s = report.Scenarios[0];
    if (s.Fail > 0)
    {
        Console.WriteLine($"  {name}: {s.Fail} failures: {string.Join(", ", s.Errors.Select(e => $"{e.Key} x{e.Value}"))}");
    }

    return s;
}

async Task Throughput(string name, Func<ScenarioContext, ValueTask<StepResult>> step, int copies, int entriesPerCall)
{
    await Run(name + "-warmup", step, Simulation.KeepConstant(copies, TimeSpan.FromSeconds(Math.Max(2, seconds / 4))), copies);
    var cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    var s = await Run(name, step, Simulation.KeepConstant(copies, phase), copies);
    var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    var entries = s.Ok * entriesPerCall;
    results[name] = (s.OkRps * entriesPerCall, s.Latency, s.Fail);
    // CPU time per entry is what the machine's other load cannot distort much: it says how
    // fast this path would go with every core to itself.
    var cpuPerEntryUs = entries > 0 ? cpu.TotalMicroseconds / entries : double.NaN;
    cpuPerEntry[name] = cpuPerEntryUs;
    Console.WriteLine($"  {name,-26} {s.OkRps * entriesPerCall,12:N0} entries/s   (closed loop, {copies} in flight; p50 {LatencySummary.ToMs(s.Latency.P50Us):0.00} ms, p99 {LatencySummary.ToMs(s.Latency.P99Us):0.00} ms; process CPU {cpuPerEntryUs:0.0} us/entry, {cpu.TotalSeconds / phase.TotalSeconds:0.00} cores busy)");
}

async Task Latency(string name, Func<ScenarioContext, ValueTask<StepResult>> step, int callsPerSecond, int entriesPerCall)
{
    var s = await Run(name, step, Simulation.Inject(callsPerSecond, TimeSpan.FromSeconds(1), phase), 4096);
    results[name] = (s.OkRps * entriesPerCall, s.Latency, s.Fail);
    Console.WriteLine($"  {name,-26} offered {callsPerSecond * entriesPerCall,9:N0} entries/s -> p50 {LatencySummary.ToMs(s.Latency.P50Us),7:0.00} ms, p99 {LatencySummary.ToMs(s.Latency.P99Us),7:0.00} ms");
}

Console.WriteLine();
Console.WriteLine("Throughput (closed loop):");
if (args.Contains("--only-sharding-batch"))
{
    // For profiling (dotnet-trace): the batch ingest phase alone.
    await Throughput("sharding batch x100", ShardBatch, 64, batchSize);
    await StopAll();
    return;
}

await Throughput("sharding single", ShardSingle, 1024, 1);
if (verified is not null && unverified is not null)
{
    await Throughput("sharding single, no proof", Single(unverified), 1024, 1);
}

await Throughput("direct single", ctx => DirectCall(ctx, 1), shards, 1);
await Throughput("sharding batch x100", ShardBatch, 64, batchSize);
if (verified is not null && unverified is not null)
{
    await Throughput("sharding batch, no proof", Batch(unverified), 64, batchSize);
}

await Throughput("sharding batch x100 + id", ShardBatchIdempotent, 64, batchSize);
await Throughput("direct batch x100", ctx => DirectCall(ctx, batchSize), shards, batchSize);

var singleRate = (int)Math.Max(100, Math.Min(results["sharding single"].EntriesPerSecond, results["direct single"].EntriesPerSecond) / 2);
var batchRate = (int)Math.Max(10, Math.Min(results["sharding batch x100"].EntriesPerSecond, results["direct batch x100"].EntriesPerSecond) / 2 / batchSize);
Console.WriteLine();
Console.WriteLine("Latency at a fixed offered rate (open model, half the slower path's throughput):");
await Latency("sharding single @rate", ShardSingle, singleRate, 1);
await Latency("direct single @rate", ctx => DirectCall(ctx, 1), singleRate, 1);
await Latency("sharding batch x100 @rate", ShardBatch, batchRate, batchSize);
await Latency("direct batch x100 @rate", ctx => DirectCall(ctx, batchSize), batchRate, batchSize);

Console.WriteLine();
Console.WriteLine("| path | sharding entries/s | direct entries/s | ratio | p50 sharding / direct @rate | p99 sharding / direct @rate |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (label, a, b) in new[] { ("single entries", "sharding single", "direct single"), ("batches of 100", "sharding batch x100", "direct batch x100") })
{
    var (ra, rb) = (results[a], results[b]);
    var (la, lb) = (results[a + " @rate"].Latency, results[b + " @rate"].Latency);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {label} | {ra.EntriesPerSecond:N0} | {rb.EntriesPerSecond:N0} | {ra.EntriesPerSecond / rb.EntriesPerSecond:0.00}x | {LatencySummary.ToMs(la.P50Us):0.00} / {LatencySummary.ToMs(lb.P50Us):0.00} ms | {LatencySummary.ToMs(la.P99Us):0.00} / {LatencySummary.ToMs(lb.P99Us):0.00} ms |"));
}

Console.WriteLine();
Console.WriteLine($"Machine load while running: {File.ReadAllText("/proc/loadavg").Trim()} (load average on {Environment.ProcessorCount} cores; other processes share them).");
foreach (var (name, us) in cpuPerEntry)
{
    Console.WriteLine($"  {name,-26} {us,6:0.0} us CPU/entry -> ~{Environment.ProcessorCount * 1_000_000 / us,10:N0} entries/s if all {Environment.ProcessorCount} cores were this process's");
}

if (verified is not null && unverified is not null)
{
    Console.WriteLine();
    Console.WriteLine("Proof check (principal token verified at the shard) on vs off, same run:");
    Console.WriteLine("| path | proof check on | proof check off | on / off | loss |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var (label, on, off) in new[] { ("single entries", "sharding single", "sharding single, no proof"), ("batches of 100", "sharding batch x100", "sharding batch, no proof") })
    {
        var ratio = results[on].EntriesPerSecond / results[off].EntriesPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {results[on].EntriesPerSecond:N0} | {results[off].EntriesPerSecond:N0} | {ratio:0.00}x | {(1 - ratio) * 100:0.0}% |"));
    }

    var batchLoss = 1 - (results["sharding batch x100"].EntriesPerSecond / results["sharding batch, no proof"].EntriesPerSecond);
    Console.WriteLine($"Target (batches): proof check costs <= 15%: {(batchLoss <= 0.15 ? "MET" : "NOT MET")} ({batchLoss * 100:0.0}%)");
}

var batchThroughput = results["sharding batch x100"].EntriesPerSecond;
var batchRatio = batchThroughput / results["direct batch x100"].EntriesPerSecond;
Console.WriteLine();
var idempotent = results["sharding batch x100 + id"].EntriesPerSecond;
Console.WriteLine($"Idempotency (a request id on every batch of 100): {idempotent:N0} entries/s vs {batchThroughput:N0} without, {(1 - (idempotent / batchThroughput)) * 100:0.0}% cost (target <= 10%: {(idempotent >= 0.9 * batchThroughput ? "MET" : "NOT MET")})");
Console.WriteLine($"Target (batches): >= 200,000 entries/s through sharding: {(batchThroughput >= 200_000 ? "MET" : "NOT MET")} ({batchThroughput:N0}); >= 0.5x direct: {(batchRatio >= 0.5 ? "MET" : "NOT MET")} ({batchRatio:0.00}x)");

await StopAll();
foreach (var d in direct)
{
    d.Dispose();
}

// ---- the scrubber's cost: batch ingest with the background scrubber off and on ----
// The same data root (now holding everything the phases above wrote) is opened by a fresh node
// each round, alternately without and with the scrubber at its default rate; passes run back to
// back (pass interval 1 s), the worst case. Rounds alternate so drift in the machine's other load
// hits both sides alike.
Console.WriteLine();
Console.WriteLine($"Scrubber cost (batches of 100; scrubber at its default {new ScrubberOptions().RateMBps} MB/s, passes back to back):");
var scrubRuns = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
var (options, host, signer, nodeSecurity) = lastNode!.Value;
foreach (var scrubbing in new[] { false, true, false, true })
{
    var scrubber = new ScrubberOptions { Enabled = scrubbing, PassInterval = TimeSpan.FromSeconds(1) };
    var roundOptions = new ForgeOneNodeOptions
    {
        Port = 0,
        Roles = [ForgeOneNodeOptions.StorageRole],
        DataRoot = options.DataRoot,
        KeysDirectory = options.KeysDirectory,
        ShardCounts = options.ShardCounts,
        Shards = options.Shards,
        Singletons = options.Singletons,
        Scrubber = scrubber,
        Audit = new AuditOptions { SealsFile = Path.Combine(root, "seals", "audit-seals.log") },
    };
    var seals = SealLogFile.OutsideDataRoot(roundOptions.Audit.SealsFileFull, roundOptions.DataRootFull);
    var roundHost = host.WithTamperEvidence(seals, signer, scrubber);
    var roundSystem = ClusterConfig.CreateSystem(roundOptions, ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
    var roundCluster = await ForgeOneCluster.StartAsync(roundSystem, roundOptions, roundHost, signer, TimeSpan.FromSeconds(60), nodeSecurity);
    region = roundCluster.Region(ShardKind.Logs);
    var name = scrubbing ? "batch x100, scrubber on" : "batch x100, scrubber off";
    var scrubbedBefore = roundHost.ScrubThrottle.BytesCharged;
    await Throughput(name, Batch(region), 64, batchSize);
    var scrubbed = roundHost.ScrubThrottle.BytesCharged - scrubbedBefore;
    if (scrubbing)
    {
        Console.WriteLine($"    the scrubber verified {scrubbed / 1e6:N1} MB in the phase ({scrubbed / 1e6 / phase.TotalSeconds:N2} MB/s)");
    }

    scrubRuns[scrubbing].Add(results[name].EntriesPerSecond);
    await CoordinatedShutdown.Get(roundSystem).Run(CoordinatedShutdown.ClrExitReason.Instance);
}

var (scrubOff, scrubOn) = (scrubRuns[false].Average(), scrubRuns[true].Average());
Console.WriteLine();
Console.WriteLine("| batches of 100 | scrubber off entries/s | scrubber on entries/s | on / off | loss |");
Console.WriteLine("|---|---:|---:|---:|---:|");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| mean of 2 rounds each | {scrubOff:N0} | {scrubOn:N0} | {scrubOn / scrubOff:0.00}x | {(1 - (scrubOn / scrubOff)) * 100:0.0}% |"));
Console.WriteLine($"Target: scrubber at the default rate costs at most 10% of ingest: {(scrubOn / scrubOff >= 0.9 ? "MET" : "NOT MET")} (machine load {File.ReadAllText("/proc/loadavg").Trim()})");

try
{
    Directory.Delete(root, recursive: true);
}
catch (IOException)
{
}

async Task StopAll()
{
    foreach (var system in running)
    {
        await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
    }
}

string StringArg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One log shard written without actors: ShardStore + RecordCipher + blind index, one transaction per call.</summary>
internal sealed class DirectShard : IDisposable
{
    private readonly ShardStore _store;
    private readonly RecordCipher _cipher;
    private readonly BlindIndex _index;
    private readonly RecordIdGenerator _ids;
    private readonly string _storeId;

    private DirectShard(ShardStore store, RecordCipher cipher, BlindIndex index, RecordIdGenerator ids, string storeId)
    {
        _store = store;
        _cipher = cipher;
        _index = index;
        _ids = ids;
        _storeId = storeId;
    }

    public static DirectShard Open(string root, int n, int count, IKekProvider kek, bool noSync)
    {
        var store = ShardStore.Open(new ShardStoreOptions(root, ShardKind.Logs, n, count) { NoSync = noSync });
        var keyring = Keyring.Create($"logs-{n:D4}", kek, TimeProvider.System).Keyring;
        return new DirectShard(store, new RecordCipher(keyring), new BlindIndex(keyring), new RecordIdGenerator(n, TimeProvider.System), $"logs-{n:D4}");
    }

    public void Append(string topic, string message, int count)
    {
        var token = _index.Token(topic);
        var metadata = MetadataCodec.Encode(MetadataCodec.Empty);
        var body = System.Text.Encoding.UTF8.GetBytes(message);
        _store.Write(txn =>
        {
            for (var i = 0; i < count; i++)
            {
                // The id generator is only touched inside Write, which the store serializes.
                var id = _ids.Next();
                var now = DateTimeOffset.UtcNow;
                var hash = ContentHashes.ForLog(topic, now, Severity.Info, message, MetadataCodec.Empty, null);
                var key = RecordKeys.Primary(id);
                var stored = new StoredLogEntry(id, topic, now, Severity.Info, body, metadata, null, hash).Encode();
                txn.Put(Tables.Logs, key, _cipher.Encrypt(stored, new RecordContext(_storeId, Tables.Logs, key)));
                txn.Put(Tables.LogIndex, RecordKeys.TopicIndex(token, now, id), []);
            }

            return 0;
        });
    }

    public void Dispose()
    {
        _cipher.Dispose();
        _store.Dispose();
    }
}

/// <summary>Single-thread CPU cost of each step of one log append (--micro), to see where the time goes.</summary>
internal static class MicroCosts
{
    public static void Run(string root)
    {
        const int n = 200_000;
        var message = new string('m', 200);
        var kek = new FileKekProvider(Path.Combine(root, "keys"), Path.Combine(root, "data"));
        var keyring = Keyring.Create("logs-0000", kek, TimeProvider.System).Keyring;
        using var cipher = new RecordCipher(keyring);
        var now = DateTimeOffset.UtcNow;
        var empty = new Dictionary<string, string>();
        var hash = ContentHashes.ForLog("t", now, Severity.Info, message, empty, null);
        var stored = new StoredLogEntry(RecordId.Create(1, 0, 0), "t", now, Severity.Info, System.Text.Encoding.UTF8.GetBytes(message), MetadataCodec.Encode(empty), null, hash).Encode();
        var key = RecordKeys.Primary(RecordId.Create(1, 0, 0));
        var enc = cipher.Encrypt(stored, new RecordContext("logs-0000", Tables.Logs, key));
        Measure("validate (ModelValidation.Log)", n, () => ModelValidation.Log("t", now, message, empty, null, now));

        // The wire format on the ingest path: one AppendLogBatch of 100 encoded and decoded, per entry.
        using (var wireSystem = ActorSystem.Create("micro-wire", "akka.loglevel = WARNING"))
        {
            var wire = new ForgeOneWireSerializer((ExtendedActorSystem)wireSystem);
            var token = new TokenIssuer(AuthenticationKeyring.InMemory(new byte[AuthenticationKeyring.KeyLength]), TimeProvider.System).Issue(Principal.Of("bench", ["writer"], "acme", ["*"], 0), "bench", TimeSpan.FromHours(1)).Token;
            var batch = new AppendLogBatch(token, "t", Enumerable.Range(0, 100).Select(_ => new LogInput(now, Severity.Info, message)).ToArray());
            var encoded = wire.ToBinary(batch);
            var manifest = wire.Manifest(batch);
            Measure("wire encode AppendLogBatch x100", n / 100, () => wire.ToBinary(batch), 100);
            Measure("wire decode AppendLogBatch x100", n / 100, () => wire.FromBinary(encoded, manifest), 100);
            Console.WriteLine($"  (one batch of 100 x 200-byte messages is {encoded.Length:N0} bytes on the wire)");
        }

        Measure("content hash (SHA-256)", n, () => ContentHashes.ForLog("t", now, Severity.Info, message, empty, null));
        Measure("encode StoredLogEntry", n, () => new StoredLogEntry(RecordId.Create(1, 0, 0), "t", now, Severity.Info, System.Text.Encoding.UTF8.GetBytes(message), MetadataCodec.Encode(empty), null, hash).Encode());
        Measure("encrypt AES-GCM", n, () => cipher.Encrypt(stored, new RecordContext("logs-0000", Tables.Logs, key)));
        using var store = ShardStore.Open(new ShardStoreOptions(Path.Combine(root, "micro"), ShardKind.Logs, 0, 1) { NoSync = true });
        var ids = new RecordIdGenerator(0, TimeProvider.System);
        Measure("2 puts (txn of 1000, nosync)", n / 1000, () => store.Write(txn =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var id = ids.Next();
                txn.Put(Tables.Logs, RecordKeys.Primary(id), enc);
                txn.Put(Tables.LogIndex, RecordKeys.TopicIndex(new byte[16], now, id), []);
            }

            return 0;
        }), 1000);
    }

    private static void Measure(string name, int iterations, Action action, int perIteration = 1)
    {
        for (var i = 0; i < Math.Min(iterations, 1000); i++)
        {
            action();
        }

        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < iterations; i++)
        {
            action();
        }

        var elapsed = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Console.WriteLine($"  {name,-34} {elapsed.TotalMicroseconds / (iterations * (double)perIteration),7:0.00} us CPU per entry");
    }
}
