using System.Text;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage.Tests;

/// <summary>Behaviour specific to the LMDB file: native library, persistence, growth, scans at scale, hot copy.</summary>
public sealed class LmdbShardStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ShardStoreOptions Options(ShardKind kind = ShardKind.Logs, int n = 0, int count = 1, string? root = null) =>
        new(root ?? _dir.Path, kind, n, count) { NoSync = true };

    [Fact]
    public void NativeLmdb_LoadedFromARealEnvironment_IsVersion1_0()
    {
        NativeLmdb.EnsureInstalled();
        using var env = new LightningEnvironment(Path.Combine(_dir.Path, "version.mdb"), new EnvironmentConfiguration { MapSize = 1 << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir, UnixAccessMode.Default);

        Assert.Equal(1, env.Version.Major);
        Assert.Equal(0, env.Version.Minor);
        Assert.StartsWith("LMDB 1.0.", env.Version.Version, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CreatesTheFileAtTheDesignPath_WithCreationInSchemaHistory()
    {
        using var store = ShardStore.Open(Options(ShardKind.Events, 7, 16));

        var expected = Path.Combine(_dir.Path, "events", "shard-0007.mdb");
        Assert.Equal(expected, ShardStore.PathFor(_dir.Path, ShardKind.Events, 7));
        Assert.Equal(expected, store.FilePath);
        Assert.True(File.Exists(expected));
        Assert.Empty(store.AppliedMigrations);
        var history = Assert.Single(store.ReadSchemaHistory());
        Assert.Equal((1UL, 0, 1), (history.Sequence, history.FromVersion, history.ToVersion));
    }

    [Fact]
    public void Scan_InAReadTransaction_ReadsOnlyWhatTheCallerTakes_AndCountRangeCopiesNothing()
    {
        using var store = ShardStore.Open(Options());
        const int records = 20_000;
        store.Write(w =>
        {
            var value = new byte[200];
            for (ulong i = 0; i < records; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64(i), value);
            }

            return 0;
        });

        // A page of 10 out of 20,000: what the page holds, not what the range holds (~4.4 MB).
        var (page, pageBytes) = store.Read(r =>
        {
            r.Scan(Tables.Logs, [], []).Take(10).ToList(); // warm-up: JIT and first-call allocations
            var before = GC.GetAllocatedBytesForCurrentThread();
            var taken = r.Scan(Tables.Logs, KeyCodec.UInt64(5000), []).Take(10).ToList();
            return (taken, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        Assert.Equal(Enumerable.Range(5000, 10).Select(i => (ulong)i), page.Select(kv => KeyCodec.ReadUInt64(kv.Key)));
        Assert.True(pageBytes < 32 * 1024, $"a page of 10 allocated {pageBytes} bytes");

        var (count, countBytes) = store.Read(r =>
        {
            r.CountRange(Tables.Logs, KeyCodec.UInt64(0), KeyCodec.UInt64(10));
            var before = GC.GetAllocatedBytesForCurrentThread();
            var n = r.CountRange(Tables.Logs, KeyCodec.UInt64(1000), KeyCodec.UInt64(15_000));
            return (n, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        Assert.Equal(14_000, count);
        Assert.True(countBytes < 4 * 1024, $"counting 14,000 records allocated {countBytes} bytes");

        // An enumeration carried out of its callback cannot read a transaction that has ended.
        var escaped = store.Read(r => r.Scan(Tables.Logs, [], []));
        Assert.Throws<InvalidOperationException>(() => escaped.First());
    }

    [Fact]
    public void Reopen_KeepsCommittedDataAndOwner()
    {
        using (var store = ShardStore.Open(Options()))
        {
            store.Write(w => { w.Put(Tables.Logs, KeyCodec.UInt64(1), "durable"u8); return 0; });
            store.ClaimOwnership("node-a", 3);
        }

        using var reopened = ShardStore.Open(Options());
        Assert.Equal("durable"u8.ToArray(), reopened.Read(r => r.Get(Tables.Logs, KeyCodec.UInt64(1))));
        Assert.Equal(new ShardOwner("node-a", 3), reopened.Meta.Owner);
        Assert.Equal(ErrorCodes.StorageStaleOwner, Assert.Throws<ForgeOneException>(() => reopened.ClaimOwnership("node-b", 2)).Code);
        Assert.Equal(0, reopened.CommitCount);
    }

    [Fact]
    public void Open_TheSameFileTwiceInOneProcess_IsRefusedWithConflict()
    {
        using var store = ShardStore.Open(Options());
        Assert.Equal(ErrorCodes.Conflict, Assert.Throws<ForgeOneException>(() => ShardStore.Open(Options())).Code);
    }

    [Fact]
    public void Scan_OverManyIndexKeys_ReturnsOneTopicInTimeOrder()
    {
        using var store = ShardStore.Open(Options());
        var random = new Random(42);
        var topics = new ulong[] { 0x1111, 0x2222, 0x3333 };
        var entries = Enumerable.Range(0, 20_000)
            .Select(i => (Topic: topics[i % 3], Time: 1_700_000_000_000L + random.Next(0, 86_400_000), Id: (ulong)i))
            .OrderBy(_ => random.Next())
            .ToList();
        foreach (var chunk in entries.Chunk(2_500))
        {
            store.Write(w =>
            {
                foreach (var e in chunk)
                {
                    w.Put(Tables.LogIndex, KeyCodec.Composite(e.Topic, e.Time, e.Id), KeyCodec.UInt64(e.Id));
                }

                return 0;
            });
        }

        var from = 1_700_000_000_000L + 3_600_000;
        var to = 1_700_000_000_000L + 7_200_000;
        var expected = entries.Where(e => e.Topic == 0x2222 && e.Time >= from && e.Time < to).OrderBy(e => e.Time).ThenBy(e => e.Id).ToList();

        var hour = store.Read(r => r.Scan(Tables.LogIndex, KeyCodec.Composite(0x2222, from, 0), KeyCodec.Composite(0x2222, to, 0)).ToList());
        Assert.True(expected.Count > 200, $"expected a dense hour, got {expected.Count}");
        Assert.Equal(expected.Select(e => (e.Time, e.Id)), hour.Select(kv => (KeyCodec.ReadInt64(kv.Key.AsSpan(8)), KeyCodec.ReadUInt64(kv.Value))));

        var latest = store.Read(r => r.Scan(Tables.LogIndex, KeyCodec.Composite(0x2222, long.MinValue, 0), KeyCodec.Composite(0x2223, long.MinValue, 0), reverse: true, limit: 100).ToList());
        var expectedLatest = entries.Where(e => e.Topic == 0x2222).OrderByDescending(e => e.Time).ThenByDescending(e => e.Id).Take(100);
        Assert.Equal(expectedLatest.Select(e => e.Id), latest.Select(kv => KeyCodec.ReadUInt64(kv.Value)));
        Assert.Equal(20_000, store.Read(r => r.Count(Tables.LogIndex)));
    }

    [Fact]
    public void MapGrowth_WritesFarBeyondTheInitialMap_InOneTransactionAndAcrossMany()
    {
        var options = Options() with { InitialMapSize = 1 << 20 };
        var value = new byte[4096];
        Random.Shared.NextBytes(value);
        using (var store = ShardStore.Open(options))
        {
            // One transaction of ~8 MiB into a 1 MiB map: aborted, grown and re-run until it fits.
            store.Write(w =>
            {
                for (ulong i = 0; i < 2_000; i++)
                {
                    w.Put(Tables.Logs, KeyCodec.UInt64(i), value);
                }

                return 0;
            });

            // Then 30 more transactions of ~1 MiB each.
            for (ulong t = 0; t < 30; t++)
            {
                store.Write(w =>
                {
                    for (ulong i = 0; i < 256; i++)
                    {
                        w.Put(Tables.Logs, KeyCodec.UInt64(10_000 + (t * 256) + i), value);
                    }

                    return 0;
                });
            }

            Assert.True(store.MapSize >= 32L << 20, $"map is {store.MapSize} bytes");
            Assert.Equal(31, store.CommitCount);
        }

        Assert.True(new FileInfo(ShardStore.PathFor(_dir.Path, ShardKind.Logs, 0)).Length > 32L << 20);
        using var reopened = ShardStore.Open(options);
        Assert.Equal(2_000 + (30 * 256), reopened.Read(r => r.Count(Tables.Logs)));
        Assert.Equal(value, reopened.Read(r => r.Get(Tables.Logs, KeyCodec.UInt64(10_000 + (29 * 256) + 255))));
        Assert.True(reopened.CheckIntegrity().IsHealthy);
    }

    [Fact]
    public async Task MapGrowth_WhileOtherThreadsRead_NeitherCrashesNorShowsPartialBatches()
    {
        using var store = ShardStore.Open(Options() with { InitialMapSize = 1 << 20 });
        using var done = new CancellationTokenSource();
        var value = new byte[2048];
        var readDone = new SemaphoreSlim(0);

        // Each batch writes 100 records; a reader must always see a multiple of 100.
        async Task<int> ReadUntilDone()
        {
            var reads = 0;
            while (!done.IsCancellationRequested)
            {
                var count = store.Read(r => r.Count(Tables.Logs));
                Assert.Equal(0, count % 100);
                reads++;
                readDone.Release();
                await Task.Yield();
            }

            return reads;
        }

        var readers = new[] { Task.Run(ReadUntilDone), Task.Run(ReadUntilDone) };
        for (ulong batch = 0; batch < 100; batch++)
        {
            // Interleave for real: at least one read completes between consecutive batches.
            Assert.True(await readDone.WaitAsync(TimeSpan.FromSeconds(30)), "no reader completed a read between two batches");
            store.Write(w =>
            {
                for (ulong i = 0; i < 100; i++)
                {
                    w.Put(Tables.Logs, KeyCodec.UInt64((batch * 100) + i), value);
                }

                return 0;
            });
        }

        await done.CancelAsync();
        var reads = await Task.WhenAll(readers);
        Assert.True(reads.Sum() >= 100, $"readers completed {reads.Sum()} reads");
        Assert.Equal(10_000, store.Read(r => r.Count(Tables.Logs)));
        Assert.True(store.MapSize > 1 << 20);
    }

    [Fact]
    public async Task HotCopy_TakenDuringConcurrentWrites_OpensAndPassesIntegrityWithOnlyWholeBatches()
    {
        const int PutsPerBatch = 20;
        using var store = ShardStore.Open(Options());
        using var stop = new CancellationTokenSource();

        // The writer runs freely but only on credit, so the file stays small however slow the
        // machine is: 50 batches before the copy, up to 2,000 more while it runs.
        var credits = new SemaphoreSlim(50);
        var committed = new SemaphoreSlim(0);
        var writer = Task.Run(async () =>
        {
            var value = new byte[500];
            for (ulong batch = 1; ; batch++)
            {
                try
                {
                    await credits.WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                store.Write(w =>
                {
                    for (var i = 0; i < PutsPerBatch; i++)
                    {
                        w.Put(Tables.Logs, KeyCodec.Composite(batch, i, 0), value);
                    }

                    w.Put(Tables.Checkpoints, KeyCodec.UInt64(batch), BitConverter.GetBytes(PutsPerBatch));
                    return 0;
                });
                committed.Release();
            }
        });

        var timeout = TimeSpan.FromSeconds(30);
        for (var i = 0; i < 50; i++)
        {
            Assert.True(await committed.WaitAsync(timeout), "the writer did not commit 50 batches before the copy");
        }

        credits.Release(2_000);
        var copyRoot = Path.Combine(_dir.Path, "backup");
        var copyPath = ShardStore.PathFor(copyRoot, ShardKind.Logs, 0);
        store.HotCopy(copyPath);
        Assert.True(await committed.WaitAsync(timeout), "the writer did not keep committing after the copy");

        await stop.CancelAsync();
        await writer;

        Assert.False(File.Exists(copyPath + ".partial"));
        using var copy = ShardStore.Open(Options(root: copyRoot));
        var report = copy.CheckIntegrity();
        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));
        var batches = copy.Read(r => r.Count(Tables.Checkpoints));
        Assert.True(batches >= 50, $"the copy holds {batches} batches");
        Assert.Equal(batches * PutsPerBatch, copy.Read(r => r.Count(Tables.Logs)));
        Assert.Equal(KeyCodec.UInt64((ulong)batches), copy.Read(r => r.Last(Tables.Checkpoints)));
        Assert.True(store.Read(r => r.Count(Tables.Checkpoints)) > batches, "the source kept growing after the copy");
    }

    [Fact]
    public void HotCopy_NeverOverwritesAnExistingFile()
    {
        using var store = ShardStore.Open(Options());
        var destination = Path.Combine(_dir.Path, "existing.mdb");
        File.WriteAllText(destination, "precious");

        Assert.Equal(ErrorCodes.Conflict, Assert.Throws<ForgeOneException>(() => store.HotCopy(destination)).Code);
        Assert.Equal("precious", File.ReadAllText(destination));
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var store = ShardStore.Open(Options());
        store.Dispose();
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Read(r => r.Count(Tables.Logs)));

        // And the file can be opened again.
        using var reopened = ShardStore.Open(Options());
        Assert.Equal(Encoding.UTF8.GetBytes("logs"), Encoding.UTF8.GetBytes(reopened.Meta.Kind.FolderName()));
    }
}
