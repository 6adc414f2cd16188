using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Common;
using Xunit.Abstractions;

namespace ForgeOne.Cluster.Tests.Blobs;

/// <summary>
/// A 2 GiB blob through the shard actor with flat memory: the managed heap and anonymous
/// memory (RssAnon: heap, stacks, native allocations; LMDB's file-backed pages are RssFile and
/// do not count) grow by less than 100 MiB, both after the transfer and at its sampled peak.
/// </summary>
[Trait("Category", "Slow")]
public sealed class BlobMemorySpec : TestKit, IDisposable
{
    private const long BlobSize = 2L * 1024 * 1024 * 1024;
    private const long Budget = 100L * 1024 * 1024;
    private readonly TempRoot _root = new();
    private readonly ITestOutputHelper _output;

    public BlobMemorySpec(ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "blob-memory-spec")
    {
        _output = output;
    }

    [Fact]
    public async Task TwoGiBBlob_UploadsAndDownloads_WithManagedHeapAndAnonymousMemoryFlat()
    {
        var handler = new BlobShardHandler();
        var host = BlobHosts.Create(_root, handler, blobShards: 1);
        var region = Sys.ActorOf(LocalShardRegion.Props(host, ShardKind.Blobs));
        var client = new BlobClient(region, 1, new FixedTokenSource(Callers.Admin), TimeSpan.FromSeconds(60));

        // Warm up (JIT, the shard file, keys, and the native allocator's per-thread arenas and
        // LMDB's write buffers, which reach their working size only after a few dozen chunk
        // commits) so the baseline is the steady state and the budget measures the 2 GiB itself.
        var warm = await client.UploadAsync(new SeededBlobStream(64L * 1024 * 1024, 7), "warm.bin", "application/octet-stream");
        await client.DownloadAsync(warm.Id, new HashingSink());
        var (heap0, anon0) = Measure();
        long peakAnon = anon0;
        using var sampler = new Timer(_ => peakAnon = Math.Max(Volatile.Read(ref peakAnon), RssAnon()), null, 0, 200);

        var source = new SeededBlobStream(BlobSize, 42);
        var clock = Stopwatch.StartNew();
        var blob = await client.UploadAsync(source, "big.bin", "application/octet-stream");
        var upload = clock.Elapsed;
        var sink = new HashingSink();
        clock.Restart();
        await client.DownloadAsync(blob.Id, sink);
        var download = clock.Elapsed;
        var (heap1, anon1) = Measure();

        Assert.Equal(BlobSize, blob.Size);
        Assert.Equal(2048, blob.ChunkCount);
        Assert.False(blob.Compressed);
        Assert.Equal(BlobSize, sink.Written);
        Assert.Equal(source.Hash(), sink.Hash());
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"upload {upload.TotalSeconds:F1}s ({BlobSize / 1048576.0 / upload.TotalSeconds:F0} MiB/s), download {download.TotalSeconds:F1}s ({BlobSize / 1048576.0 / download.TotalSeconds:F0} MiB/s)"));
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"managed heap {heap0 >> 20} -> {heap1 >> 20} MiB; RssAnon {anon0 >> 20} -> {anon1 >> 20} MiB (peak {Volatile.Read(ref peakAnon) >> 20} MiB)"));
        Assert.True(heap1 - heap0 < Budget, $"managed heap grew by {(heap1 - heap0) >> 20} MiB");
        Assert.True(anon1 - anon0 < Budget, $"anonymous memory grew by {(anon1 - anon0) >> 20} MiB");

        // The same budget at the peak, sampled during the transfer with no trimming: chunk
        // buffers are pooled or collected young (System.GC.LOHThreshold, as the node runs), so
        // what is held is a few windows of 1 MiB buffers; a blob buffered whole would show up
        // here as gigabytes.
        Assert.Equal(2 * 1024 * 1024, Convert.ToInt64(AppContext.GetData("System.GC.LOHThreshold"), CultureInfo.InvariantCulture));
        Assert.True(Volatile.Read(ref peakAnon) - anon0 < Budget, $"anonymous memory peaked {(Volatile.Read(ref peakAnon) - anon0) >> 20} MiB above the baseline");
    }

    private static (long Heap, long Anon) Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

        // glibc keeps freed native blocks (LMDB's dirty-page buffers of a write transaction) in
        // its arenas for reuse; trimming returns them, so RssAnon shows what is held, not what
        // the allocator caches.
        MallocTrim(0);
        return (GC.GetTotalMemory(false), RssAnon());
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static long RssAnon()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(8).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("/proc/self/status has no RssAnon line");
    }

    public new void Dispose()
    {
        Shutdown();
        _root.Dispose();
    }
}
