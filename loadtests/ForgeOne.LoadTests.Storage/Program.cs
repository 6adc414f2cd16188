using System.Diagnostics;
using System.Globalization;
using ForgeOne.Common;
using ForgeOne.Storage;
using LightningDB;

// Log-append throughput: ShardStore vs raw LightningDB, same keys, same values, same number
// of puts per record (the record under its id in `logs`, plus an index entry
// (topic hash, timestamp, id) -> empty in `log_index`), same environment flags.
// ShardStore adds what a real append pays: table lookup, envelope, checksum, map-growth
// bookkeeping. No encryption. Sizes are interleaved and repeated; the median is reported.
//
// Two modes, both run by default:
//   MDB_NOSYNC  - no fsync: measures the engine's CPU cost, the overhead ShardStore adds.
//   durable     - fsync per commit, as production runs: small batches measure the disk.
//
//   dotnet run -c Release --project loadtests/ForgeOne.LoadTests.Storage [-- --quick] [--nosync | --durable]
var quick = args.Contains("--quick");
var modes = args.Contains("--nosync") ? [true] : args.Contains("--durable") ? [false] : new[] { true, false };
const int RecordSize = 200;

NativeLmdb.EnsureInstalled();
var root = Directory.CreateTempSubdirectory("forgeone-bench-").FullName;
var allMet = true;
try
{
    foreach (var noSync in modes)
    {
        // Records per measurement for each batch size: enough commits to dwarf timer noise,
        // few enough that the whole run stays under two minutes on a shared 2-core machine.
        (int Batch, int Records)[] plan = (quick, noSync) switch
        {
            (true, _) => [(1, 300), (100, 10_000), (1_000, 50_000), (10_000, 50_000)],
            (false, true) => [(1, 5_000), (100, 50_000), (1_000, 200_000), (10_000, 200_000)],
            (false, false) => [(1, 300), (100, 20_000), (1_000, 100_000), (10_000, 200_000)],
        };
        var rounds = quick ? 1 : noSync ? 5 : 3;
        var data = LogRecords.Generate(plan.Max(p => p.Records), RecordSize);

        Console.WriteLine($"## {(noSync ? "MDB_NOSYNC (engine cost)" : "durable (fsync per commit)")}: {RecordSize}-byte log records, 2 puts per record, median of {rounds} round(s)");
        Console.WriteLine();

        // Warm-up: enough calls of both paths, small and large commits, for tiered JIT to
        // promote them to optimized code before anything is timed.
        foreach (var batch in new[] { 1, 100 })
        {
            Bench.Raw(Path.Combine(root, "warm-raw"), data, 3_000, batch, noSync: true);
            Bench.Store(Path.Combine(root, "warm-store"), data, 3_000, batch, noSync: true);
            Directory.Delete(Path.Combine(root, "warm-raw"), recursive: true);
            Directory.Delete(Path.Combine(root, "warm-store"), recursive: true);
        }

        var results = plan.ToDictionary(p => p.Batch, _ => (Raw: new List<double>(), Store: new List<double>()));
        var run = 0;
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (batch, records) in plan)
            {
                // Alternate which side goes first so drift (page cache, disk, neighbours) hits both.
                var rawFirst = (round + run) % 2 == 0;
                for (var side = 0; side < 2; side++)
                {
                    var dir = Path.Combine(root, $"run-{run++}");
                    if ((side == 0) == rawFirst)
                    {
                        results[batch].Raw.Add(Bench.Raw(dir, data, records, batch, noSync));
                    }
                    else
                    {
                        results[batch].Store.Add(Bench.Store(dir, data, records, batch, noSync));
                    }

                    Directory.Delete(dir, recursive: true);
                }
            }
        }

        Console.WriteLine("| records/commit | raw LMDB records/s | ShardStore records/s | ratio |");
        Console.WriteLine("| ---: | ---: | ---: | ---: |");
        double ratioAt1000 = 0;
        foreach (var (batch, _) in plan)
        {
            var raw = Median(results[batch].Raw);
            var store = Median(results[batch].Store);
            var ratio = store / raw;
            if (batch == 1_000)
            {
                ratioAt1000 = ratio;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {batch:N0} | {raw:N0} | {store:N0} | {ratio:0.00} |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Target ShardStore >= 0.60 x raw at 1,000 records/commit: {(ratioAt1000 >= 0.6 ? "met" : "NOT met")} ({ratioAt1000:0.00})."));
        Console.WriteLine();
        allMet &= ratioAt1000 >= 0.6;
    }

    return allMet ? 0 : 1;
}
finally
{
    Directory.Delete(root, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

/// <summary>Precomputed keys and values shared by both sides.</summary>
internal sealed record LogRecords(byte[][] Ids, byte[][] IndexKeys, byte[][] Values)
{
    public static LogRecords Generate(int count, int size)
    {
        var random = new Random(20261128);
        var ids = new byte[count][];
        var index = new byte[count][];
        var values = new byte[count][];
        var time = 1_764_000_000_000L;
        for (var i = 0; i < count; i++)
        {
            var id = ((ulong)i << 8) | 3; // time-ordered, shard 3 in the low bits
            ids[i] = KeyCodec.UInt64(id);
            index[i] = KeyCodec.Composite((ulong)random.Next(16) * 0x9E3779B97F4A7C15UL, time + i, id);
            values[i] = new byte[size];
            random.NextBytes(values[i]);
        }

        return new LogRecords(ids, index, values);
    }
}

internal static class Bench
{
    private const long MapSize = 1L << 30; // same starting map for both; neither side grows during a run

    /// <returns>Records per second.</returns>
    public static double Store(string dataRoot, LogRecords data, int records, int batch, bool noSync)
    {
        using var store = ShardStore.Open(new ShardStoreOptions(dataRoot, ShardKind.Logs, 3, 8) { InitialMapSize = MapSize, NoSync = noSync });
        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < records; start += batch)
        {
            var end = Math.Min(start + batch, records);
            store.Write(w =>
            {
                for (var i = start; i < end; i++)
                {
                    w.Put(Tables.Logs, data.Ids[i], data.Values[i]);
                    w.Put(Tables.LogIndex, data.IndexKeys[i], []);
                }

                return 0;
            });
        }

        return records / stopwatch.Elapsed.TotalSeconds;
    }

    /// <returns>Records per second.</returns>
    public static double Raw(string dataRoot, LogRecords data, int records, int batch, bool noSync)
    {
        Directory.CreateDirectory(dataRoot);
        using var env = new LightningEnvironment(Path.Combine(dataRoot, "raw.mdb"), new EnvironmentConfiguration { MapSize = MapSize, MaxDatabases = 32 });
        var flags = EnvironmentOpenFlags.NoSubDir | EnvironmentOpenFlags.NoThreadLocalStorage | (noSync ? EnvironmentOpenFlags.NoSync : 0);
        env.Open(flags, UnixAccessMode.OwnerRead | UnixAccessMode.OwnerWrite);
        LightningDatabase logs, index;
        using (var setup = env.BeginTransaction())
        {
            logs = setup.OpenDatabase(Tables.Logs, new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }, closeOnDispose: false);
            index = setup.OpenDatabase(Tables.LogIndex, new DatabaseConfiguration { Flags = DatabaseOpenFlags.Create }, closeOnDispose: false);
            setup.Commit().ThrowOnError();
        }

        var stopwatch = Stopwatch.StartNew();
        for (var start = 0; start < records; start += batch)
        {
            var end = Math.Min(start + batch, records);
            using var txn = env.BeginTransaction();
            for (var i = start; i < end; i++)
            {
                txn.Put(logs, data.Ids[i].AsSpan(), data.Values[i].AsSpan(), PutOptions.None).ThrowOnError();
                txn.Put(index, data.IndexKeys[i].AsSpan(), ReadOnlySpan<byte>.Empty, PutOptions.None).ThrowOnError();
            }

            txn.Commit().ThrowOnError();
        }

        return records / stopwatch.Elapsed.TotalSeconds;
    }
}
