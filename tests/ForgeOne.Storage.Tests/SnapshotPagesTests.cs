using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Storage.Tests;

/// <summary>
/// Page dumps of a live shard file: a full stream rebuilds the snapshot exactly, and the
/// incremental streams of a chain, applied in order over it, rebuild each later snapshot
/// exactly, whatever changed (appends, deletes, overwrites, values on overflow pages), also
/// while a writer keeps committing during the dump.
/// </summary>
public sealed class SnapshotPagesTests : IDisposable
{
    private static readonly string[] DataTables = [Tables.Logs, Tables.LogIndex, Tables.Checkpoints, Tables.Keys];
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Live => Path.Combine(_dir.Path, "live");

    private string Restored => Path.Combine(_dir.Path, "restored");

    private ShardStoreOptions Options(string root) => new(root, ShardKind.Logs, 3, 8) { NoSync = true };

    [Fact]
    public void FullThenIncrementals_RebuildEverySnapshotExactly_ThroughAppendsDeletesOverwritesAndOverflowValues()
    {
        var random = new Random(1234);
        var model = new SortedDictionary<(string, string), byte[]>();
        using var live = ShardStore.Open(Options(Live));
        using var image = PageImage.Create(ShardStore.PathFor(Restored, ShardKind.Logs, 3));

        ulong since = 0;
        long fullBytes = 0;
        for (var round = 0; round < 6; round++)
        {
            Mutate(live, model, random, round == 0 ? 3000 : 300);
            var (txnId, bytes) = Dump(live, since, image);
            if (round == 0)
            {
                fullBytes = bytes;
            }
            else
            {
                // 10% as many changes as the first round: the incremental carries a fraction of the pages.
                Assert.True(bytes < fullBytes / 2, $"incremental {round} is {bytes} bytes, full was {fullBytes}");
            }

            Assert.True(txnId > since);
            since = txnId;
            image.Complete();
            AssertImageEquals(model, ShardStore.PathFor(Restored, ShardKind.Logs, 3));
        }
    }

    [Fact]
    public async Task Dump_WhileAWriterCommits_IsExactlyTheSnapshotItStartedFrom()
    {
        using var live = ShardStore.Open(Options(Live));
        var model = new SortedDictionary<(string, string), byte[]>();
        Mutate(live, model, new Random(7), 2000);

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var random = new Random(99);
            var scratch = new SortedDictionary<(string, string), byte[]>();
            var commits = 0;
            while (!stop.IsCancellationRequested || commits < 50)
            {
                Mutate(live, scratch, random, 20);
                commits++;
            }

            return commits;
        });

        SortedDictionary<(string, string), byte[]> atSnapshot = [];
        using (var image = PageImage.Create(ShardStore.PathFor(Restored, ShardKind.Logs, 3)))
        {
            live.Snapshot(0, (reader, pages) =>
            {
                atSnapshot = ReadAll(reader);
                image.BeginStream(pages.PageSize, pages.NextPage);
                var buffer = new byte[8192]; // small reads: the writer commits many times during the dump
                int n;
                while ((n = pages.Read(buffer)) > 0)
                {
                    image.Write(buffer.AsSpan(0, n));
                    Thread.Yield();
                }

                image.EndStream();
                return 0;
            });
            image.Complete();
            stop.Cancel();
        }

        Assert.True(await writer >= 50);
        Assert.True(atSnapshot.Count >= model.Count);
        AssertImageEquals(atSnapshot, ShardStore.PathFor(Restored, ShardKind.Logs, 3));
    }

    [Fact]
    public void Image_OfAStreamCutShort_IsRefusedAsCorrupt()
    {
        using var live = ShardStore.Open(Options(Live));
        Mutate(live, [], new Random(5), 100);
        var stream = live.Snapshot(0, (_, pages) =>
        {
            using var ms = new MemoryStream();
            var buffer = new byte[65536];
            int n;
            while ((n = pages.Read(buffer)) > 0)
            {
                ms.Write(buffer, 0, n);
            }

            return (ms.ToArray(), pages.PageSize, pages.NextPage);
        });

        using var image = PageImage.Create(Path.Combine(_dir.Path, "cut.mdb"));
        image.BeginStream(stream.PageSize, stream.NextPage);
        image.Write(stream.Item1.AsSpan(0, stream.Item1.Length - 100));
        Assert.Equal(ErrorCodes.StorageCorruptFile, Assert.Throws<ForgeOneException>(image.EndStream).Code);
    }

    private static (ulong TxnId, long Bytes) Dump(ShardStore live, ulong since, PageImage image) =>
        live.Snapshot(since, (_, pages) =>
        {
            image.BeginStream(pages.PageSize, pages.NextPage);
            var buffer = new byte[1 << 20];
            long total = 0;
            int n;
            while ((n = pages.Read(buffer)) > 0)
            {
                image.Write(buffer.AsSpan(0, n));
                total += n;
            }

            image.EndStream();
            return (pages.TxnId, total);
        });

    // Puts (small and overflow-sized), overwrites and deletes over several tables, several commits.
    private static void Mutate(ShardStore store, SortedDictionary<(string, string), byte[]> model, Random random, int operations)
    {
        var done = 0;
        while (done < operations)
        {
            var batch = Math.Min(operations - done, 1 + random.Next(200));
            store.Write(w =>
            {
                for (var i = 0; i < batch; i++)
                {
                    var table = DataTables[random.Next(DataTables.Length)];
                    var existing = model.Keys.Where(k => k.Item1 == table).ToList();
                    var roll = random.Next(10);
                    if (roll < 2 && existing.Count > 0)
                    {
                        var victim = existing[random.Next(existing.Count)];
                        Assert.True(w.Delete(table, Convert.FromHexString(victim.Item2)));
                        model.Remove(victim);
                        continue;
                    }

                    var key = roll < 4 && existing.Count > 0 ? Convert.FromHexString(existing[random.Next(existing.Count)].Item2) : RandomKey(random);
                    var value = RandomNumberGenerator.GetBytes(random.Next(20) == 0 ? 20_000 + random.Next(60_000) : 10 + random.Next(300));
                    w.Put(table, key, value);
                    model[(table, Convert.ToHexString(key))] = value;
                }

                return 0;
            });
            done += batch;
        }
    }

    private static byte[] RandomKey(Random random)
    {
        var key = new byte[8 + random.Next(24)];
        random.NextBytes(key);
        return key;
    }

    private static SortedDictionary<(string, string), byte[]> ReadAll(IReadTransaction reader)
    {
        var all = new SortedDictionary<(string, string), byte[]>();
        foreach (var table in DataTables)
        {
            foreach (var (key, value) in reader.Scan(table, [], []))
            {
                all[(table, Convert.ToHexString(key))] = value;
            }
        }

        return all;
    }

    private void AssertImageEquals(SortedDictionary<(string, string), byte[]> expected, string imagePath)
    {
        // A copy per check: the image stays free for the next incremental, and the copy opens
        // as the real shard (same kind and number) would.
        var root = Path.Combine(_dir.Path, "check-" + Guid.NewGuid().ToString("N"));
        File.Copy(imagePath, ShardStore.PathFor(root, ShardKind.Logs, 3).Also(p => Directory.CreateDirectory(Path.GetDirectoryName(p)!)));
        using var opened = ShardStore.Open(Options(root));
        var actual = opened.Read(ReadAll);
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (key, value) in expected)
        {
            Assert.True(actual.TryGetValue(key, out var got), $"{key} missing from the image");
            Assert.Equal(value, got);
        }

        var report = opened.CheckIntegrity();
        Assert.Empty(report.Errors);
    }
}

internal static class TestExtensions
{
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
