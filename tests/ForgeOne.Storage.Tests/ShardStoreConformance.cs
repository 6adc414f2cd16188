using System.Text;
using ForgeOne.Common;
using ForgeOne.Storage.Testing;

namespace ForgeOne.Storage.Tests;

/// <summary>
/// The <see cref="IShardStore"/> contract, run against every implementation
/// (<see cref="LmdbShardStoreConformanceTests"/>, <see cref="InMemoryShardStoreConformanceTests"/>).
/// </summary>
public abstract class ShardStoreConformance : IDisposable
{
    private readonly List<IShardStore> _stores = [];

    /// <summary>Creates a new, empty store of <paramref name="kind"/> (shard 0 of 4).</summary>
    protected abstract IShardStore CreateEmptyStore(ShardKind kind);

    protected IShardStore NewStore(ShardKind kind = ShardKind.Logs)
    {
        var store = CreateEmptyStore(kind);
        _stores.Add(store);
        return store;
    }

    public virtual void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Put_ThenGet_ReturnsTheSameBytes()
    {
        var store = NewStore();
        store.Write(w =>
        {
            w.Put(Tables.Logs, B("k1"), B("value one"));
            w.Put(Tables.Logs, B("k2"), []);
            return 0;
        });

        Assert.Equal(B("value one"), store.Read(r => r.Get(Tables.Logs, B("k1"))));
        Assert.Equal(Array.Empty<byte>(), store.Read(r => r.Get(Tables.Logs, B("k2"))));
    }

    [Fact]
    public void PutWrapped_StoresTheSameRecordAsPut_AndRefusesWhatIsNotASealedEnvelope()
    {
        var store = NewStore();
        var payload = new byte[200_000];
        new Random(3).NextBytes(payload);
        var envelope = new byte[RecordEnvelope.WrappedLength(payload.Length)];
        payload.CopyTo(envelope, RecordEnvelope.HeaderSize);
        RecordEnvelope.Seal(B("k1"), envelope);

        store.Write(w =>
        {
            w.PutWrapped(Tables.Logs, B("k1"), envelope);
            w.Put(Tables.Logs, B("k2"), payload);
            return 0;
        });

        Assert.Equal(payload, store.Read(r => r.Get(Tables.Logs, B("k1"))));
        Assert.Equal(RecordEnvelope.Wrap(B("k1"), payload), envelope);
        Assert.Equal(payload, store.Read(r => r.Get(Tables.Logs, B("k2"))));
        Assert.Throws<ArgumentException>(() => store.Write(w =>
        {
            w.PutWrapped(Tables.Logs, B("k3"), [9, 0, 0, 0, 0, 1]);
            return 0;
        }));
        Assert.Throws<ArgumentException>(() => store.Write(w =>
        {
            w.PutWrapped(Tables.Logs, B("k3"), [RecordEnvelope.CurrentFormat, 0]);
            return 0;
        }));
        Assert.Null(store.Read(r => r.Get(Tables.Logs, B("k3"))));

        // An envelope sealed for another key is stored (the checksum is not recomputed on the
        // writer's thread) but refused by every read as corrupt.
        store.Write(w =>
        {
            w.PutWrapped(Tables.Logs, B("k4"), envelope);
            return 0;
        });
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => store.Read(r => r.Get(Tables.Logs, B("k4")))).Code);
    }

    [Fact]
    public void TryGet_SeesTheSameBytesAsGet_WithoutCopying_AndFalseWhenMissing()
    {
        var store = NewStore();
        var big = new byte[300_000];
        new Random(5).NextBytes(big);
        store.Write(w =>
        {
            w.Put(Tables.Logs, B("big"), big);
            return 0;
        });

        var (found, copy) = store.Read(r => r.TryGet(Tables.Logs, B("big"), out var value) ? (true, value.ToArray()) : (false, []));
        Assert.True(found);
        Assert.Equal(big, copy);
        Assert.False(store.Read(r => r.TryGet(Tables.Logs, B("absent"), out _)));
        Assert.True(store.Write(w => w.TryGet(Tables.Logs, B("big"), out var value) && value.Length == big.Length));
    }

    [Fact]
    public void Get_MissingKey_ReturnsNull()
    {
        var store = NewStore();
        Assert.Null(store.Read(r => r.Get(Tables.Logs, B("absent"))));
    }

    [Fact]
    public void Put_ExistingKey_ReplacesValue()
    {
        var store = NewStore();
        store.Write(w => { w.Put(Tables.Logs, B("k"), B("old")); return 0; });
        store.Write(w => { w.Put(Tables.Logs, B("k"), B("new")); return 0; });

        Assert.Equal(B("new"), store.Read(r => r.Get(Tables.Logs, B("k"))));
        Assert.Equal(1, store.Read(r => r.Count(Tables.Logs)));
    }

    [Fact]
    public void Delete_RemovesKey_AndReportsWhetherItExisted()
    {
        var store = NewStore();
        store.Write(w => { w.Put(Tables.Logs, B("k"), B("v")); return 0; });

        Assert.True(store.Write(w => w.Delete(Tables.Logs, B("k"))));
        Assert.False(store.Write(w => w.Delete(Tables.Logs, B("k"))));
        Assert.Null(store.Read(r => r.Get(Tables.Logs, B("k"))));
    }

    [Fact]
    public void Write_ThatThrowsMidBatch_LeavesNothingAndDoesNotCount()
    {
        var store = NewStore();
        store.Write(w => { w.Put(Tables.Logs, B("before"), B("kept")); return 0; });
        var commitsBefore = store.CommitCount;

        var error = Assert.Throws<InvalidOperationException>(() => store.Write<int>(w =>
        {
            for (var i = 0; i < 100; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), B($"value {i}"));
                w.Put(Tables.LogIndex, KeyCodec.UInt64((ulong)i), []);
            }

            w.Delete(Tables.Logs, B("before"));
            throw new InvalidOperationException("boom after 201 operations");
        }));

        Assert.Equal("boom after 201 operations", error.Message);
        Assert.Equal(commitsBefore, store.CommitCount);
        store.Read(r =>
        {
            Assert.Equal(1, r.Count(Tables.Logs));
            Assert.Equal(0, r.Count(Tables.LogIndex));
            Assert.Equal(B("kept"), r.Get(Tables.Logs, B("before")));
            return 0;
        });
    }

    [Fact]
    public void Write_CommitsAllOperationsTogether_AndCountsOneCommit()
    {
        var store = NewStore();
        var commitsBefore = store.CommitCount;

        store.Write(w =>
        {
            for (var i = 0; i < 1000; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), B($"v{i}"));
            }

            return 0;
        });

        Assert.Equal(commitsBefore + 1, store.CommitCount);
        Assert.Equal(1000, store.Read(r => r.Count(Tables.Logs)));
    }

    [Fact]
    public void Write_SeesItsOwnUncommittedPuts()
    {
        var store = NewStore();
        var seen = store.Write(w =>
        {
            w.Put(Tables.Logs, B("k"), B("v"));
            return (w.Get(Tables.Logs, B("k")), w.Count(Tables.Logs), w.Last(Tables.Logs));
        });

        Assert.Equal(B("v"), seen.Item1);
        Assert.Equal(1, seen.Item2);
        Assert.Equal(B("k"), seen.Item3);
    }

    [Fact]
    public void Read_OnAnotherThread_DuringAWrite_DoesNotBlockAndSeesOnlyCommittedData()
    {
        var store = NewStore();
        store.Write(w => { w.Put(Tables.Logs, B("committed"), B("1")); return 0; });

        store.Write(w =>
        {
            w.Put(Tables.Logs, B("uncommitted"), B("2"));

            // The writer holds its transaction open while another thread reads.
            var reader = Task.Run(() => store.Read(r => (r.Get(Tables.Logs, B("committed")), r.Get(Tables.Logs, B("uncommitted")))));
            Assert.True(reader.Wait(TimeSpan.FromSeconds(10)), "a read on another thread did not complete while a write transaction was open");
            Assert.Equal(B("1"), reader.Result.Item1);
            Assert.Null(reader.Result.Item2);
            return 0;
        });

        Assert.Equal(B("2"), store.Read(r => r.Get(Tables.Logs, B("uncommitted"))));
    }

    [Fact]
    public void Scan_ReturnsKeysInByteOrder_FromInclusiveToExclusive()
    {
        var store = NewStore();
        store.Write(w =>
        {
            foreach (var i in new[] { 5, 1, 9, 3, 7, 2, 8, 0, 6, 4 })
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), B($"v{i}"));
            }

            return 0;
        });

        var all = store.Read(r => r.Scan(Tables.Logs, [], []).ToList());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (ulong)i), all.Select(kv => KeyCodec.ReadUInt64(kv.Key)));
        Assert.Equal(B("v3"), all[3].Value);

        var range = store.Read(r => r.Scan(Tables.Logs, KeyCodec.UInt64(3), KeyCodec.UInt64(7)).ToList());
        Assert.Equal(new ulong[] { 3, 4, 5, 6 }, range.Select(kv => KeyCodec.ReadUInt64(kv.Key)));

        var openEnd = store.Read(r => r.Scan(Tables.Logs, KeyCodec.UInt64(8), []).ToList());
        Assert.Equal(new ulong[] { 8, 9 }, openEnd.Select(kv => KeyCodec.ReadUInt64(kv.Key)));
    }

    [Fact]
    public void Scan_Reverse_ReturnsDescendingKeysWithinBounds()
    {
        var store = NewStore();
        store.Write(w =>
        {
            for (var i = 0; i < 10; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), B($"v{i}"));
            }

            return 0;
        });

        var all = store.Read(r => r.Scan(Tables.Logs, [], [], reverse: true).ToList());
        Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(i => (ulong)i), all.Select(kv => KeyCodec.ReadUInt64(kv.Key)));

        var range = store.Read(r => r.Scan(Tables.Logs, KeyCodec.UInt64(3), KeyCodec.UInt64(7), reverse: true).ToList());
        Assert.Equal(new ulong[] { 6, 5, 4, 3 }, range.Select(kv => KeyCodec.ReadUInt64(kv.Key)));

        // An exclusive bound between keys and beyond the last key.
        var between = store.Read(r => r.Scan(Tables.Logs, [], [0, 0, 0, 0, 0, 0, 0, 4, 1], reverse: true, limit: 2).ToList());
        Assert.Equal(new ulong[] { 4, 3 }, between.Select(kv => KeyCodec.ReadUInt64(kv.Key)));
        var beyond = store.Read(r => r.Scan(Tables.Logs, [], KeyCodec.UInt64(100), reverse: true, limit: 1).ToList());
        Assert.Equal(new ulong[] { 9 }, beyond.Select(kv => KeyCodec.ReadUInt64(kv.Key)));
    }

    [Fact]
    public void Scan_Limit_StopsAfterLimitRecords()
    {
        var store = NewStore();
        store.Write(w =>
        {
            for (var i = 0; i < 50; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), []);
            }

            return 0;
        });

        Assert.Equal(new ulong[] { 10, 11, 12 }, store.Read(r => r.Scan(Tables.Logs, KeyCodec.UInt64(10), [], limit: 3).Select(kv => KeyCodec.ReadUInt64(kv.Key)).ToList()));
        Assert.Empty(store.Read(r => r.Scan(Tables.Logs, [], [], limit: 0).ToList()));
        Assert.Empty(store.Read(r => r.Scan(Tables.Logs, KeyCodec.UInt64(60), []).ToList()));
    }

    [Fact]
    public void CountAndLast_ReflectTheTable()
    {
        var store = NewStore();
        Assert.Null(store.Read(r => r.Last(Tables.Logs)));
        Assert.Equal(0, store.Read(r => r.Count(Tables.Logs)));

        store.Write(w =>
        {
            w.Put(Tables.Logs, KeyCodec.UInt64(7), []);
            w.Put(Tables.Logs, KeyCodec.UInt64(70), []);
            w.Put(Tables.Logs, KeyCodec.UInt64(42), []);
            return 0;
        });

        Assert.Equal(KeyCodec.UInt64(70), store.Read(r => r.Last(Tables.Logs)));
        Assert.Equal(3, store.Read(r => r.Count(Tables.Logs)));
    }

    [Theory]
    [InlineData(ShardKind.System)]
    [InlineData(ShardKind.Logs)]
    [InlineData(ShardKind.Blobs)]
    [InlineData(ShardKind.Events)]
    public void EveryTableOfTheKind_IsUsable_AndOtherKindsTablesAreRejected(ShardKind kind)
    {
        var store = NewStore(kind);
        var writable = Tables.For(kind).Where(t => !Tables.IsStoreManaged(t)).ToList();
        store.Write(w =>
        {
            foreach (var table in writable)
            {
                w.Put(table, B("k"), B(table));
            }

            return 0;
        });

        foreach (var table in writable)
        {
            Assert.Equal(B(table), store.Read(r => r.Get(table, B("k"))));
        }

        var foreign = kind == ShardKind.Events ? Tables.Logs : Tables.Events;
        var error = Assert.Throws<ForgeOneException>(() => store.Write(w => { w.Put(foreign, B("k"), B("v")); return 0; }));
        Assert.Equal(ErrorCodes.InvalidArgument, error.Code);
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => store.Read(r => r.Get("no_such_table", B("k")))).Code);
    }

    [Fact]
    public void StoreManagedTables_CannotBeWrittenDirectly_ButCanBeRead()
    {
        var store = NewStore();
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => store.Write(w => { w.Put(Tables.ShardMeta, ShardMeta.Key, B("x")); return 0; })).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => store.Write(w => w.Delete(Tables.SchemaHistory, KeyCodec.UInt64(1)))).Code);

        var meta = store.Read(r => r.Get(Tables.ShardMeta, ShardMeta.Key));
        Assert.Equal(store.Meta, ShardMeta.Decode(meta));
        Assert.Equal(1, store.Read(r => r.Count(Tables.SchemaHistory)));
    }

    [Fact]
    public void EmptyOrOversizedKey_IsRejectedWithInvalidArgument()
    {
        var store = NewStore();
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => store.Write(w => { w.Put(Tables.Logs, [], B("v")); return 0; })).Code);
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => store.Write(w => { w.Put(Tables.Logs, new byte[512], B("v")); return 0; })).Code);
        Assert.Equal(0, store.Read(r => r.Count(Tables.Logs)));
    }

    [Fact]
    public void Meta_DescribesTheShard()
    {
        var store = NewStore(ShardKind.Blobs);
        Assert.Equal(new ShardMeta(ShardKind.Blobs, 0, 4, ShardSchema.BaseVersion, RecordEnvelope.CurrentFormat, null), store.Meta);
    }

    [Fact]
    public void ClaimOwnership_RecordsOwner_AndAHigherEpochTakesOver()
    {
        var store = NewStore();
        store.ClaimOwnership("akka.tcp://forgeone@node-a:4053", 1);
        Assert.Equal(new ShardOwner("akka.tcp://forgeone@node-a:4053", 1), store.Meta.Owner);

        store.ClaimOwnership("akka.tcp://forgeone@node-a:4053", 1); // the same claim again is harmless
        store.ClaimOwnership("akka.tcp://forgeone@node-b:4053", 2);
        Assert.Equal(new ShardOwner("akka.tcp://forgeone@node-b:4053", 2), store.Meta.Owner);
        Assert.Equal(store.Meta, ShardMeta.Decode(store.Read(r => r.Get(Tables.ShardMeta, ShardMeta.Key))));
    }

    [Fact]
    public void ClaimOwnership_WithLowerEpoch_OrSameEpochByAnotherNode_ThrowsStaleOwner()
    {
        var store = NewStore();
        store.ClaimOwnership("node-b", 5);

        Assert.Equal(ErrorCodes.StorageStaleOwner, Assert.Throws<ForgeOneException>(() => store.ClaimOwnership("node-a", 4)).Code);
        Assert.Equal(ErrorCodes.StorageStaleOwner, Assert.Throws<ForgeOneException>(() => store.ClaimOwnership("node-a", 5)).Code);
        Assert.Equal(new ShardOwner("node-b", 5), store.Meta.Owner);
    }

    [Fact]
    public void CheckIntegrity_OnAHealthyStore_CountsEveryRecordAndReportsNoErrors()
    {
        var store = NewStore();
        store.Write(w =>
        {
            for (var i = 0; i < 25; i++)
            {
                w.Put(Tables.Logs, KeyCodec.UInt64((ulong)i), B($"v{i}"));
            }

            w.Put(Tables.Audit, KeyCodec.UInt64(1), B("audit"));
            return 0;
        });

        var report = store.CheckIntegrity();

        Assert.True(report.IsHealthy, string.Join("; ", report.Errors));
        Assert.Equal(Tables.For(ShardKind.Logs), report.Tables.Select(t => t.Table));
        Assert.Equal(25, report.Tables.Single(t => t.Table == Tables.Logs).Records);
        Assert.Equal(1, report.Tables.Single(t => t.Table == Tables.Audit).Records);
        Assert.Equal(1, report.Tables.Single(t => t.Table == Tables.ShardMeta).Records);
    }

    [Fact]
    public void Write_NestedInAWriteOnTheSameThread_IsRefused()
    {
        var store = NewStore();
        Assert.Throws<InvalidOperationException>(() => store.Write(_ => store.Write(w => { w.Put(Tables.Logs, B("k"), B("v")); return 0; })));
        Assert.Equal(0, store.Read(r => r.Count(Tables.Logs)));
    }

    [Fact]
    public void Write_InsideAReadOnTheSameThread_IsRefused()
    {
        var store = NewStore();
        Assert.Throws<InvalidOperationException>(() => store.Read(_ => store.Write(w => { w.Put(Tables.Logs, B("k"), B("v")); return 0; })));
        Assert.Equal(0, store.Read(r => r.Count(Tables.Logs)));
    }

    [Fact]
    public void TransactionUsedAfterItsCallback_Throws()
    {
        var store = NewStore();
        var escaped = store.Read(r => r);
        Assert.Throws<InvalidOperationException>(() => escaped.Get(Tables.Logs, B("k")));
    }
}

public sealed class LmdbShardStoreConformanceTests : ShardStoreConformance
{
    private readonly TempDirectory _dir = new();

    protected override IShardStore CreateEmptyStore(ShardKind kind) =>
        ShardStore.Open(new ShardStoreOptions(_dir.Path, kind, 0, 4) { NoSync = true });

    public override void Dispose()
    {
        base.Dispose();
        _dir.Dispose();
    }
}

public sealed class InMemoryShardStoreConformanceTests : ShardStoreConformance
{
    protected override IShardStore CreateEmptyStore(ShardKind kind) => new InMemoryShardStore(kind, 0, 4);

    [Fact]
    public void CorruptedValue_FailsReadWithCorruptRecord_AndIsReportedByCheckIntegrity()
    {
        var store = (InMemoryShardStore)NewStore();
        store.Write(w => { w.Put(Tables.Logs, KeyCodec.UInt64(1), "payload"u8); return 0; });
        store.CorruptValueForTest(Tables.Logs, KeyCodec.UInt64(1));

        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => store.Read(r => r.Get(Tables.Logs, KeyCodec.UInt64(1)))).Code);
        Assert.Equal(1, store.CheckIntegrity().Tables.Single(t => t.Table == Tables.Logs).CorruptRecords);
    }
}
