using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using ForgeOne.Backup;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

// Backup and restore throughput of real shard files against `cp` of the same files, in one run.
//
// The data set is what a cluster stores: blob shards of 1 MiB encrypted chunks and log shards
// of 200-byte encrypted entries, each write with its audit record in the same transaction (the
// same AES-GCM records, keyrings and chains the cluster writes). Then, with the page cache warm
// for both sides:
//   reference  cp of every shard file to each of two region folders, then sync of those files
//   backup     a full backup to two regions (page dump, LZ4, AES-256-GCM, SHA-256, fsync,
//              size checked in both regions, signed manifest; --verify-after-write also
//              re-reads every copy and checks its SHA-256, as Backup:VerifyAfterWrite does)
//   restore    cp of every shard file to one new folder + sync, against a restore of the full
//              backup from one region into a new folder: decrypt, page image, fsync, then the
//              whole verification (every shard opens, integrity walk of every record, audit
//              chain from genesis to the manifest's head, record counts)
//   incremental  1% more data, then an incremental backup, against the full's time
// MB/s are of the shard files' bytes (the data protected). Targets: backup and restore >= 0.5x
// cp, incremental <= 5% of the full.
//
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Backup [-- --size-mib 2048 | --quick] [--verify-after-write]
var quick = args.Contains("--quick");
var rehash = args.Contains("--verify-after-write"); // Backup:VerifyAfterWrite: re-read every region's copy before completing
var sizeMiB = quick ? 256 : args.SkipWhile(a => a != "--size-mib").Skip(1).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).DefaultIfEmpty(2048).First();
NativeLmdb.EnsureInstalled();
var root = Directory.CreateTempSubdirectory("forgeone-backup-bench-").FullName;
try
{
    var data = Path.Combine(root, "data");
    var keys = Path.Combine(root, "keys");
    var kek = new FileKekProvider(keys, data);
    using var signer = AuditSigner.LoadOrCreate(keys, data);
    var time = TimeProvider.System;
    var shards = new List<Shard>
    {
        Shard.Create(data, new ShardRef(null, ShardKind.Blobs, 0), 2, kek, time),
        Shard.Create(data, new ShardRef(null, ShardKind.Blobs, 1), 2, kek, time),
        Shard.Create(data, new ShardRef(null, ShardKind.Logs, 0), 2, kek, time),
        Shard.Create(data, new ShardRef(null, ShardKind.Logs, 1), 2, kek, time),
    };
    var stopwatch = Stopwatch.StartNew();
    Fill(shards, sizeMiB * (1L << 20));
    Console.WriteLine($"Data set: {sizeMiB} MiB in {shards.Count} shards ({string.Join(", ", shards.Select(s => $"{s.Ref.Name} {new FileInfo(s.Store.FilePath).Length >> 20} MiB"))}), written in {stopwatch.Elapsed.TotalSeconds:F1} s; load average {LoadAverage()}");
    var files = shards.Select(s => s.Store.FilePath).ToList();
    var bytes = files.Sum(f => new FileInfo(f).Length);
    var stores = shards.ToDictionary(s => s.Ref, s => (IShardStore)s.Store);
    int[] counts = [2, 1, 2];

    // Warm both sides equally: read every file once.
    foreach (var file in files)
    {
        using var stream = File.OpenRead(file);
        stream.CopyTo(Stream.Null);
    }

    var cpBackup = Run(() => Copy(data, files, [Path.Combine(root, "cp-a"), Path.Combine(root, "cp-b")]));
    BackupTarget[] targets = [new(new BackupTargetOptions("eu-west", Path.Combine(root, "region-a"))), new(new BackupTargetOptions("us-east", Path.Combine(root, "region-b")))];
    BackupManifest full = null!;
    var backupTime = Run(() => full = InProcessBackup.Run(stores, null, kek, signer, targets, "bench", counts, time, rehash: rehash));

    var cpRestore = Run(() => Copy(data, files, [Path.Combine(root, "cp-restore")]));
    var repository = new BackupRepository(targets, signer.ExportPublicKeyPem());
    var restoreTime = Run(() => Restorer.RestoreInto(Path.Combine(root, "restored"), repository.Chain(full.Id), repository, kek, ["eu-west"]));

    Fill(shards, bytes / 100);
    BackupManifest incremental = null!;
    var incrementalTime = Run(() => incremental = InProcessBackup.Run(stores, full, kek, signer, targets, "bench", counts, time, rehash: rehash));

    double MBps(TimeSpan t) => bytes / 1e6 / t.TotalSeconds;
    Console.WriteLine();
    Console.WriteLine($"| operation ({bytes / 1e6:N0} MB of shard files) | ForgeOne | cp of the same files | ratio | target |");
    Console.WriteLine("| --- | ---: | ---: | ---: | --- |");
    var backupRatio = cpBackup / backupTime;
    var restoreRatio = cpRestore / restoreTime;
    var incrementalShare = incrementalTime / backupTime;
    Console.WriteLine($"| full backup to 2 regions{(rehash ? ", every copy re-read" : "")} | {MBps(backupTime):N0} MB/s ({backupTime.TotalSeconds:F2} s, {full.Size / 1e6:N0} MB stored) | {MBps(cpBackup):N0} MB/s (cp + sync to 2 folders) | {backupRatio:F2} | >= 0.5: {(backupRatio >= 0.5 ? "met" : "NOT met")} |");
    Console.WriteLine($"| restore from 1 region, verified | {MBps(restoreTime):N0} MB/s ({restoreTime.TotalSeconds:F2} s) | {MBps(cpRestore):N0} MB/s (cp + sync to 1 folder) | {restoreRatio:F2} | >= 0.5: {(restoreRatio >= 0.5 ? "met" : "NOT met")} |");
    Console.WriteLine($"| incremental after 1% new data | {incrementalTime.TotalSeconds:F2} s ({incremental.Size / 1e6:N1} MB stored) | full {backupTime.TotalSeconds:F2} s | {incrementalShare:P1} of the full | <= 5%: {(incrementalShare <= 0.05 ? "met" : "NOT met")} |");
    Console.WriteLine();
    Console.WriteLine($"Load average at the end: {LoadAverage()}");
    foreach (var shard in shards)
    {
        shard.Dispose();
    }

    return backupRatio >= 0.5 && restoreRatio >= 0.5 && incrementalShare <= 0.05 ? 0 : 1;
}
finally
{
    if (!OperatingSystem.IsWindows())
    {
        // Complete backups are read-only folders.
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    Directory.Delete(root, recursive: true);
}

static TimeSpan Run(Action action)
{
    var stopwatch = Stopwatch.StartNew();
    action();
    return stopwatch.Elapsed;
}

// cp -r of the shard folders, then sync of the copies: the backup fsyncs every file it writes, so the reference does too.
static void Copy(string dataRoot, IReadOnlyList<string> files, IReadOnlyList<string> destinations)
{
    var folders = files.Select(f => Path.GetDirectoryName(f)!).Distinct().ToList();
    var copies = new List<string>();
    foreach (var destination in destinations)
    {
        Directory.CreateDirectory(destination);
        var cp = Process.Start("cp", ["-r", .. folders, destination])!;
        cp.WaitForExit();
        if (cp.ExitCode != 0)
        {
            throw new InvalidOperationException("cp failed");
        }

        copies.AddRange(files.Select(f => Path.Combine(destination, Path.GetRelativePath(dataRoot, f))));
    }

    var sync = Process.Start("sync", copies)!;
    sync.WaitForExit();
}

static void Fill(List<Shard> shards, long bytes)
{
    // Three quarters blobs (1 MiB chunks), one quarter logs (200-byte entries, 1,000 per commit).
    var blobBytes = bytes * 3 / 4;
    var chunks = (int)Math.Max(1, blobBytes >> 20);
    for (var i = 0; i < chunks; i++)
    {
        shards[i % 2].Append(1, 1 << 20);
    }

    var entries = (int)((bytes - blobBytes) / 260);
    for (var done = 0; done < entries; done += 1000)
    {
        shards[2 + (done / 1000 % 2)].Append(Math.Min(1000, entries - done), 200);
    }
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

/// <summary>A shard written the way the cluster writes one: keyring, AES-GCM records, one audit record per commit.</summary>
internal sealed class Shard : IDisposable
{
    private readonly RecordCipher _cipher;
    private AuditChain _chain;
    private ulong _next = 1;

    private Shard(ShardRef shard, ShardStore store, RecordCipher cipher, AuditChain chain)
    {
        Ref = shard;
        Store = store;
        _cipher = cipher;
        _chain = chain;
    }

    public ShardRef Ref { get; }

    public ShardStore Store { get; }

    public static Shard Create(string root, ShardRef shard, int count, IKekProvider kek, TimeProvider time)
    {
        var store = ShardStore.Open(new ShardStoreOptions(root, shard.Kind, shard.Shard, count) { NoSync = true });
        var ring = Keyring.Create(shard.StoreId, kek, time);
        var chain = new AuditChain(shard.StoreId);
        store.Write(w =>
        {
            w.Put(Tables.Keys, "keyring"u8, ring.Keyring.Serialize(kek));
            foreach (var e in ring.Events)
            {
                var record = chain.Append(e, "system");
                w.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            }

            return 0;
        });
        return new Shard(shard, store, new RecordCipher(ring.Keyring), chain);
    }

    public void Append(int records, int size)
    {
        var table = Ref.Kind == ShardKind.Blobs ? Tables.BlobChunks : Tables.Logs;
        var plaintext = new byte[size];
        AuditChain chain = null!;
        ulong next = 0;
        Store.Write(w =>
        {
            chain = new AuditChain(_chain.Head);
            next = _next;
            for (var i = 0; i < records; i++)
            {
                var key = new byte[Ref.Kind == ShardKind.Blobs ? 12 : 8];
                BinaryPrimitives.WriteUInt64BigEndian(key, next++);
                RandomNumberGenerator.Fill(plaintext);
                w.Put(table, key, _cipher.Encrypt(plaintext, new RecordContext(Ref.StoreId, table, key)));
            }

            var record = chain.Append(DateTimeOffset.UtcNow, "bench", "bench.append", Ref.StoreId, AuditOutcome.Success, $"{records}");
            w.Put(Tables.Audit, KeyCodec.UInt64((ulong)record.Seq), AuditRecordCodec.Encode(record));
            return 0;
        });
        _chain = chain;
        _next = next;
    }

    public void Dispose()
    {
        _cipher.Dispose();
        Store.Dispose();
    }
}
