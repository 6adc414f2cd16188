using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Configuration;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using K4os.Compression.LZ4;

namespace ForgeOne.LoadTests.Data.Blobs;

/// <summary>
/// <c>blobs</c>: upload and download MB/s of one blob (1 GiB by default) through a blob shard
/// actor (single node, in-process ActorSystem, the real handler, security and LMDB file),
/// against the raw cost of the same bytes on one core: LZ4 (fast) + AES-256-GCM per 1 MiB chunk
/// for upload, AES-256-GCM decrypt + LZ4 decode for download. Prints MB/s of each and the ratio
/// (target &gt;= 0.5x).
/// <code>
///   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Data -- blobs [--size-mib 1024] [--window 8] [--data random|text|both] [--breakdown]
/// </code>
/// Two kinds of data (<c>--data random|text|both</c>, default both): pseudo-random bytes, which
/// LZ4 never shrinks (every chunk pays the failed attempt and is stored whole), and log-like
/// text, which LZ4 shrinks about 4x (the raw reference then pays for real compression).
/// Each direction runs twice: on a shard without fsync (the CPU path the target compares with
/// the raw figures) and on a durable one (fsync per commit, as production runs), next to the
/// disk's own sequential write rate: a durable upload can go no faster than the disk.
/// The CPU-path upload runs into a new file (which grows) and again, after a delete, into the
/// space the delete freed: the steady state of a long-running shard, whose LMDB file reuses
/// freed pages instead of asking the kernel for new page-cache pages. The target is judged on
/// that one; the growing-file figure is printed next to what the page cache alone sustains for
/// a new file of the same size, measured in the same run.
/// </summary>
public static class BlobBenchmark
{
    private const int ChunkSize = 1024 * 1024;
    private const double MiB = 1024 * 1024;

    /// <summary>Runs the benchmark; returns 0 when both ratios meet the target, else 1.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMiB = IntArg(args, "--size-mib", 1024);
        var window = IntArg(args, "--window", BlobClient.DefaultWindow);
        var size = sizeMiB * (long)ChunkSize;
        var root = Directory.CreateTempSubdirectory("forgeone-blob-bench-").FullName;
        try
        {
            Console.WriteLine($"## blobs: {sizeMiB} MiB blob, {ChunkSize / 1024} KiB chunks, window {window}, {Environment.ProcessorCount} cores, AES-GCM engine: {ForgeOne.Security.RecordCipher.Engine}");
            Console.WriteLine();

            if (args.Contains("--breakdown"))
            {
                Breakdown(root, Math.Min(sizeMiB, 256), noSync: true);
            }

            if (args.Contains("--profile"))
            {
                // For perf/dotnet-trace: one no-fsync upload and download, nothing else.
                await ThroughShard(Path.Combine(root, "profile"), size, window, noSync: true, text: StringArg(args, "--data", "random") == "text");
                return 0;
            }

            var kinds = StringArg(args, "--data", "both") switch
            {
                "random" => new[] { false },
                "text" => new[] { true },
                _ => new[] { false, true },
            };
            var met = true;
            foreach (var text in kinds)
            {
                met &= await RunOne(root, size, window, text);
            }

            return met ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One data kind: raw reference, CPU-path and durable shard transfers, the page cache and the disk; prints the table and verdict.</summary>
    private static async Task<bool> RunOne(string root, long size, int window, bool text)
    {
        var label = text ? "log-like text (LZ4 shrinks it ~4x)" : "random bytes (incompressible: every chunk pays a failed LZ4 attempt)";
        Console.WriteLine($"### data: {label}");
        var dir = Path.Combine(root, text ? "text" : "random");
        var (rawUp, rawDown) = Raw(size, text);
        var cpu = await ThroughShard(Path.Combine(dir, "nosync"), size, window, noSync: true, text);
        var durable = await ThroughShard(Path.Combine(dir, "durable"), size, window, noSync: false, text);
        var pageCache = FileWrite(Path.Combine(root, "page-cache.bin"), size, fsync: false);
        var disk = FileWrite(Path.Combine(root, "disk.bin"), size, fsync: true);

        Console.WriteLine("| path | MB/s (MiB/s) |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(Row("raw LZ4 + AES-GCM encrypt, one core", rawUp));
        Console.WriteLine(Row("shard upload, CPU path (no fsync), into space a delete freed", cpu.UpReused));
        Console.WriteLine(Row("shard upload, CPU path (no fsync), file growing", cpu.Up));
        Console.WriteLine(Row("the page cache itself: the same bytes to a new file, no fsync", pageCache));
        Console.WriteLine(Row("shard upload, durable (fsync per commit), file growing", durable.Up));
        Console.WriteLine(Row("the disk itself: sequential write + one fsync", disk));
        Console.WriteLine(Row("raw AES-GCM decrypt + LZ4 decode, one core", rawDown));
        Console.WriteLine(Row("shard download (from the no-fsync shard)", cpu.Down));
        Console.WriteLine(Row("shard download (from the durable shard)", durable.Down));
        Console.WriteLine();
        var upRatio = cpu.UpReused / rawUp;
        var downRatio = cpu.Down / rawDown;
        var met = upRatio >= 0.5 && downRatio >= 0.5;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upload into freed space / raw = {upRatio:F2}x, download / raw = {downRatio:F2}x (target >= 0.5x): {(met ? "MET" : "NOT MET")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upload into a growing file / raw = {cpu.Up / rawUp:F2}x; the page cache alone (new file, no fsync) / raw = {pageCache / rawUp:F2}x (a growing file first pays for new page-cache pages)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"durable upload / raw = {durable.Up / rawUp:F2}x; durable upload / the disk's own write rate = {durable.Up / disk:F2}x (a durable upload cannot outrun the disk)"));
        Console.WriteLine();
        return met;
    }

    /// <summary>
    /// What the file system under the data directory sustains for the same number of bytes
    /// written sequentially to a new file: with <paramref name="fsync"/>, the disk; without, the
    /// page cache (on a VM whose host takes back the guest's free memory, every new page-cache
    /// page costs a host page fault, so even this is far from memory speed).
    /// </summary>
    private static double FileWrite(string path, long size, bool fsync)
    {
        var block = new byte[ChunkSize];
        new Random(1).NextBytes(block);
        var clock = Stopwatch.StartNew();
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (long written = 0; written < size; written += ChunkSize)
            {
                file.Write(block);
            }

            file.Flush(flushToDisk: fsync);
        }

        var rate = size / MiB / clock.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }

    /// <summary>The same bytes through LZ4 + AES-GCM and back on the calling thread (one core).</summary>
    private static (double Up, double Down) Raw(long size, bool text)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var aes = new AesGcm(key, 16);
        var source = new SeededChunks(42, text);
        var plain = new byte[ChunkSize];
        var packed = new byte[LZ4Codec.MaximumOutputSize(ChunkSize)];
        var cipher = new byte[packed.Length];
        var tag = new byte[16];
        var nonce = new byte[12];
        var back = new byte[ChunkSize];
        var chunks = (int)(size / ChunkSize);

        // Upload side: compress (kept only if it shrinks, as the shard does) + encrypt.
        Pass(64); // warm-up: JIT tier-up, page faults on the buffers
        var clock = Stopwatch.StartNew();
        var lengths = Pass(chunks);
        var up = size / MiB / clock.Elapsed.TotalSeconds;

        // Download side: decrypt + decompress the last packed chunk repeatedly (same sizes).
        var n = lengths;
        clock.Restart();
        for (var i = 0; i < chunks; i++)
        {
            aes.Decrypt(nonce, cipher.AsSpan(0, n), tag, packed.AsSpan(0, n));
            if (LZ4Codec.Decode(packed.AsSpan(0, n), back) < 0)
            {
                packed.AsSpan(0, n).CopyTo(back);
            }
        }

        var down = size / MiB / clock.Elapsed.TotalSeconds;
        return (up, down);

        int Pass(int count)
        {
            var last = 0;
            for (var i = 0; i < count; i++)
            {
                source.Fill(i, plain);
                var compressed = LZ4Codec.Encode(plain, packed.AsSpan(0, ChunkSize - 1), LZ4Level.L00_FAST);
                if (compressed <= 0)
                {
                    plain.CopyTo(packed, 0);
                    compressed = ChunkSize;
                }

                RandomNumberGenerator.Fill(nonce);
                aes.Encrypt(nonce, packed.AsSpan(0, compressed), cipher.AsSpan(0, compressed), tag);
                last = compressed;
            }

            return last;
        }
    }

    /// <summary>
    /// Through one blob shard: an upload into the new file (which grows), its download, and on
    /// the no-fsync shard a delete and a second upload of the same size into the space the delete
    /// freed, which is how a long-running shard mostly writes (LMDB reuses freed pages).
    /// </summary>
    private static async Task<(double Up, double Down, double UpReused)> ThroughShard(string root, long size, int window, bool noSync, bool text)
    {
        var dataRoot = Path.Combine(root, "data");
        Directory.CreateDirectory(dataRoot);
        var node = new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "keys"), dataRoot), TimeProvider.System, "bench");
        var host = new ShardHost(
            dataRoot,
            new ShardCounts(1, 1, 1),
            new ShardOptions { NoSync = noSync },
            new ShardSecurityFactory(new FileKekProvider(Path.Combine(root, "keys"), dataRoot), node, TimeProvider.System),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Blobs] = new BlobShardHandler() },
            TimeProvider.System,
            Limits.Default);
        var config = ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            {{ClusterConfig.ShardActorHocon}}
            """);
        using var system = ActorSystem.Create("blob-bench", config);
        try
        {
            // One blob shard: the entity itself stands in for the region (every message routes to it).
            var shard = system.ActorOf(ShardActor.Props(host, "blobs-0", "bench-node"), "blobs-0");
            var admin = node.Issuer.Issue(Principal.Of("bench", ["admin"], null, ["*"], int.MaxValue), "bench", TimeSpan.FromHours(1)).Token;
            var client = new BlobClient(shard, 1, new FixedTokenSource(admin), TimeSpan.FromMinutes(2), window);
            await WarmUp(client, text);

            var mode = noSync ? "no fsync" : "durable";
            var (blob, up) = await Timed($"upload ({mode}, file growing)", () => client.UploadAsync(new SeededStream(size, 42, text), "bench.bin", "application/octet-stream"));
            var (_, down) = await Timed($"download ({mode})", () => client.DownloadAsync(blob.Id, Stream.Null));
            var upReused = TimeSpan.Zero;
            if (noSync)
            {
                await client.DeleteAsync(blob.Id);
                (_, upReused) = await Timed($"upload ({mode}, into freed space)", () => client.UploadAsync(new SeededStream(size, 43, text), "again.bin", "application/octet-stream"));
            }

            await shard.GracefulStop(TimeSpan.FromSeconds(30), ShardProtocol.HandOff.Instance);
            return (Rate(up), Rate(down), upReused == TimeSpan.Zero ? 0 : Rate(upReused));
        }
        finally
        {
            await system.Terminate();
        }

        double Rate(TimeSpan elapsed) => size / MiB / elapsed.TotalSeconds;
    }

    /// <summary>
    /// Small uploads, downloads and deletes until three rounds in a row compile no method: the
    /// JIT's tiering (call counting, then tier-1 and PGO re-compiles on a background thread)
    /// otherwise goes on into the timed transfer and takes a core from it. One quiet round is not
    /// enough: promotions wait for a pause in new compilations and can land in the next round.
    /// At most 60 rounds.
    /// </summary>
    private static async Task WarmUp(BlobClient client, bool text)
    {
        const int quietRoundsNeeded = 3;
        var rounds = 0;
        var quiet = 0;
        while (quiet < quietRoundsNeeded && rounds < 60)
        {
            var before = System.Runtime.JitInfo.GetCompiledMethodCount();
            var warm = await client.UploadAsync(new SeededStream(48 * ChunkSize, 7 + rounds, text), "warm.bin", "application/octet-stream");
            await client.DownloadAsync(warm.Id, Stream.Null);
            await client.DeleteAsync(warm.Id);
            quiet = System.Runtime.JitInfo.GetCompiledMethodCount() == before ? quiet + 1 : 0;
            rounds++;
        }

        Console.WriteLine($"  warm-up: {rounds} rounds of 48 MiB up + down + delete, the last {quiet} compiling no method");
    }

    /// <summary>Runs <paramref name="transfer"/>; prints its time and how many cores the process kept busy meanwhile.</summary>
    private static async Task<(T Result, TimeSpan Elapsed)> Timed<T>(string what, Func<Task<T>> transfer)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var result = await transfer();
        var elapsed = clock.Elapsed;
        var busy = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {elapsed.TotalSeconds:F2} s, {busy:F2} cores busy"));
        return (result, elapsed);
    }

    /// <summary>Where an upload's time goes: each stage alone, 1 MiB per operation, one thread.</summary>
    private static void Breakdown(string root, int chunks, bool noSync)
    {
        var dataRoot = Path.Combine(root, "breakdown");
        Directory.CreateDirectory(dataRoot);
        using var store = ShardStore.Open(new ShardStoreOptions(dataRoot, ShardKind.Blobs, 0, 1) { NoSync = noSync });
        using var security = new ShardSecurityFactory(new FileKekProvider(Path.Combine(root, "bkeys"), dataRoot), new NodeSecurity(AuthenticationKeyring.LoadOrCreate(Path.Combine(root, "bkeys"), dataRoot), TimeProvider.System, "bench"), TimeProvider.System).Open(store, ShardKind.Blobs, 0);
        var codec = new ForgeOne.Storage.Records.BlobChunkCodec();
        var source = new SeededChunks(3, text: false);
        var plain = new byte[ChunkSize];
        var frame = new byte[ForgeOne.Storage.Records.BlobChunkCodec.MaxPackedLength(ChunkSize)];
        byte[] sealedChunk = [];
        var pack = 0.0;
        var encrypt = 0.0;
        var put = 0.0;
        var whole = 0.0;
        var clock = new Stopwatch();
        for (var i = 0; i < chunks; i++)
        {
            source.Fill(i, plain);
            clock.Restart();
            BlobHasher.Of(plain);
            whole += clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            var packed = codec.Pack(plain, frame);
            pack += clock.Elapsed.TotalMilliseconds;
            var key = ForgeOne.Storage.Records.RecordKeys.BlobChunk(new ForgeOne.Common.RecordId(1), i);
            clock.Restart();
            sealedChunk = security.Encrypt(Tables.BlobChunks, key, frame.AsSpan(0, packed.Length));
            encrypt += clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            store.Write(txn =>
            {
                txn.Put(Tables.BlobChunks, key, sealedChunk);
                return 0;
            });
            put += clock.Elapsed.TotalMilliseconds;
        }

        var get = 0.0;
        var decrypt = 0.0;
        clock.Restart();
        for (var i = 0; i < chunks; i++)
        {
            var key = ForgeOne.Storage.Records.RecordKeys.BlobChunk(new ForgeOne.Common.RecordId(1), i);
            clock.Restart();
            var value = store.Read(txn => txn.Get(Tables.BlobChunks, key))!;
            get += clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            security.Decrypt(Tables.BlobChunks, key, value);
            decrypt += clock.Elapsed.TotalMilliseconds;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"breakdown per 1 MiB chunk ({chunks} chunks): whole-blob xxh3-128 {whole / chunks:F2} ms, pack {pack / chunks:F2} ms, encrypt {encrypt / chunks:F2} ms, store put+commit {put / chunks:F2} ms, store get {get / chunks:F2} ms, decrypt {decrypt / chunks:F2} ms"));
        Console.WriteLine();
    }

    private static string Row(string path, double mibPerSecond) =>
        string.Create(CultureInfo.InvariantCulture, $"| {path} | {mibPerSecond * MiB / 1e6:F0} ({mibPerSecond:F0}) |");

    private static string StringArg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>
    /// 1 MiB chunks from a seeded 1 MiB block, different in every chunk: random bytes whose
    /// 64-bit words are xor'd with a per-chunk value, or log-like text lines stamped with the
    /// chunk number every 256 bytes (so LZ4 still finds its repeats).
    /// </summary>
    private sealed class SeededChunks
    {
        private readonly byte[] _seed = new byte[ChunkSize];
        private readonly bool _text;

        public SeededChunks(int seed, bool text)
        {
            _text = text;
            var random = new Random(seed);
            if (!text)
            {
                random.NextBytes(_seed);
                return;
            }

            var levels = new[] { "INFO", "WARN", "DEBUG", "ERROR" };
            var services = new[] { "orders", "payments", "auth", "inventory", "search" };
            var lines = new System.Text.StringBuilder();
            while (lines.Length < ChunkSize)
            {
                lines.Append(CultureInfo.InvariantCulture, $"2026-11-28T{random.Next(24):D2}:{random.Next(60):D2}:{random.Next(60):D2}.{random.Next(1000):D3}Z {levels[random.Next(4)]} {services[random.Next(5)]} request id={random.Next(1_000_000):D6} user=u{random.Next(5000)} status={200 + random.Next(4)} latency_ms={random.Next(900)}\n");
            }

            System.Text.Encoding.ASCII.GetBytes(lines.ToString(0, ChunkSize), _seed);
        }

        public void Fill(long index, Span<byte> chunk)
        {
            if (_text)
            {
                _seed.CopyTo(chunk);
                for (var at = 0; at + 8 <= chunk.Length; at += 256)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(chunk[at..], index);
                }

                return;
            }

            var mask = (ulong)(index + 1) * 0x9E3779B97F4A7C15UL;
            var source = MemoryMarshal.Cast<byte, ulong>(_seed.AsSpan());
            var target = MemoryMarshal.Cast<byte, ulong>(chunk);
            for (var i = 0; i < source.Length; i++)
            {
                target[i] = source[i] ^ mask;
            }
        }
    }

    /// <summary>A read-only stream of <see cref="SeededChunks"/>, one chunk generated at a time.</summary>
    private sealed class SeededStream(long length, int seed, bool text) : Stream
    {
        private readonly SeededChunks _chunks = new(seed, text);
        private readonly byte[] _block = new byte[ChunkSize];
        private long _position;
        private long _blockIndex = -1;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (buffer.Length > 0 && _position < length)
            {
                var index = _position / ChunkSize;
                if (_position % ChunkSize == 0 && buffer.Length >= ChunkSize && length - _position >= ChunkSize)
                {
                    // A whole chunk is generated straight into the reader's buffer, as the raw
                    // reference generates into its own: the source costs both paths the same.
                    _chunks.Fill(index, buffer[..ChunkSize]);
                    buffer = buffer[ChunkSize..];
                    _position += ChunkSize;
                    total += ChunkSize;
                    continue;
                }

                if (index != _blockIndex)
                {
                    _chunks.Fill(index, _block);
                    _blockIndex = index;
                }

                var within = (int)(_position % ChunkSize);
                var n = (int)Math.Min(Math.Min(buffer.Length, ChunkSize - within), length - _position);
                _block.AsSpan(within, n).CopyTo(buffer);
                buffer = buffer[n..];
                _position += n;
                total += n;
            }

            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
