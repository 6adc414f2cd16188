using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using LightningDB;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// One test per kind of tampering an attacker with write access to a stopped node's data
/// directory can do: the shard file is edited with a raw LightningDB transaction (not through
/// <see cref="ShardStore"/>; the envelope checksum recomputed where the attacker would), then
/// each detector is asked in turn, and what each one says is asserted exactly:
/// the offline deep integrity check, the shard's open check, the sealer's continuation check,
/// the scrubber, and a read.
/// </summary>
public sealed class TamperMatrixSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private const string Store = "logs-0000";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TempRoot _root = new();
    private readonly SealLogFile _seals;
    private readonly AuditSigner _signer;
    private readonly ShardHost _host;
    private readonly SealLedger _ledger = new();
    private readonly List<RecordId> _ids = [];

    public TamperMatrixSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "tamper-matrix")
    {
        _seals = new SealLogFile(Path.Combine(_root.Root, "seals", "audit-seals.log"));
        _signer = AuditSigner.LoadFor(_seals, _root.KeysDirectory, _root.DataRoot);
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory).WithTamperEvidence(_seals, _signer, new ScrubberOptions { Enabled = false });
    }

    void IDisposable.Dispose()
    {
        _signer.Dispose();
        _root.Dispose();
    }

    private IActorRef Start() => Sys.ActorOf(ShardActor.Props(_host, "logs-0", "test-node"));

    private void Stop(IActorRef shard)
    {
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, Wait);
    }

    /// <summary>A shard with five entries (audit records 1 keys.created, 2 schema.migrate, 3..7 appends), sealed at its head, closed.</summary>
    private void Prepare()
    {
        var shard = Start();
        for (var i = 0; i < 5; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry($"entry {i}")));
            _ids.Add(ExpectMsg<LogAppended>(Wait).Id);
        }

        var plan = SealRound.Plan(_ledger, [Report(shard)]);
        var seal = _signer.CreateSeal(_ledger.Last, DateTimeOffset.UtcNow, plan.Heads, plan.Failed);
        _seals.Append(seal);
        _ledger.Apply(seal);
        Assert.Equal(7, seal.HeadOf(Store)!.Seq);
        Stop(shard);
    }

    /// <summary>What the sealer learns from the shard: its head, the hash at the sealed seq, and whether it is broken.</summary>
    private HeadReport Report(IActorRef shard)
    {
        shard.Tell(new ShardProtocol.GetAuditHead(Callers.System, ShardKind.Logs, 0) { Since = _ledger.SealedHead(Store)?.Head.Seq });
        return ExpectMsg<object>(Wait) switch
        {
            ShardProtocol.AuditHead h => new HeadReport(h.Chain, new ChainHead(h.Chain, h.Sequence, h.Hash), h.HashAtSince, h.Broken),
            ShardProtocol.ShardFailed => new HeadReport(Store, null, null, null),
            var other => throw new InvalidOperationException($"unexpected {other}"),
        };
    }

    private SealPlan Sealer(IActorRef shard) => SealRound.Plan(_ledger, [Report(shard)]);

    private ShardProtocol.ScrubReport? Scrub(IActorRef shard)
    {
        shard.Tell(new ShardProtocol.ScrubNow(Callers.System, ShardKind.Logs, 0));
        return ExpectMsg<object>(Wait) as ShardProtocol.ScrubReport;
    }

    private IntegrityReport DeepCheck() => OfflineIntegrity.Check(_host, ShardKind.Logs, 0, _seals, _host.SealKey);

    private object Read(IShardQuery query, IActorRef shard)
    {
        shard.Tell(query);
        return ExpectMsg<object>(Wait);
    }

    private static byte[] Key(RecordId id) => RecordKeys.Primary(id);

    private static string Hex(byte[] key) => KeyCodec.ToHex(key);

    /// <summary>Edits the closed shard file the way an attacker would: a raw LightningDB write transaction.</summary>
    private void Raw(Action<LightningTransaction, Func<string, LightningDatabase>> edit)
    {
        var path = ShardStore.PathFor(_host.StoreOptions(ShardKind.Logs, 0).DataRoot, ShardKind.Logs, 0);
        using var env = new LightningEnvironment(path, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir);
        using var txn = env.BeginTransaction();
        var dbs = new Dictionary<string, LightningDatabase>();
        edit(txn, name => dbs.TryGetValue(name, out var db) ? db : dbs[name] = txn.OpenDatabase(name));
        Assert.Equal(MDBResultCode.Success, txn.Commit());
        foreach (var db in dbs.Values)
        {
            db.Dispose();
        }
    }

    private static byte[] Get(LightningTransaction txn, LightningDatabase db, byte[] key)
    {
        var (rc, _, value) = txn.Get(db, key);
        Assert.Equal(MDBResultCode.Success, rc);
        return value.CopyToNewArray();
    }

    private static byte[] Payload(byte[] stored) => stored[RecordEnvelope.HeaderSize..];

    private static void Put(LightningTransaction txn, LightningDatabase db, byte[] key, byte[] payload) =>
        Assert.Equal(MDBResultCode.Success, txn.Put(db, key, RecordEnvelope.Wrap(key, payload)));

    private static void AssertFindings(IEnumerable<(string Table, string? Key, string Code)> expected, IEnumerable<IntegrityFinding> findings) =>
        Assert.Equal(expected.Order().ToArray(), findings.Select(f => (f.Table, f.KeyHex, f.Code)).Distinct().Order().ToArray());

    private static void AssertErrors(IEnumerable<(string Table, string? Key, string Code)> expected, IntegrityReport report) =>
        Assert.Equal(expected.Order().ToArray(), report.Errors.Select(e => (e.Table, e.KeyHex, e.Code)).Distinct().Order().ToArray());

    private static void AssertHealthy(IActorRef shard, SealPlan plan, ShardProtocol.AuditHead head)
    {
        Assert.Null(head.Broken);
        Assert.Equal([Store], plan.Heads.Select(h => h.ShardId));
        Assert.Empty(plan.Failed);
    }

    private ShardProtocol.AuditHead Head(IActorRef shard)
    {
        shard.Tell(new ShardProtocol.GetAuditHead(Callers.System, ShardKind.Logs, 0));
        return ExpectMsg<ShardProtocol.AuditHead>(Wait);
    }

    [Fact]
    public void FlippedCiphertextByte_ChecksumNotRecomputed_IsCaughtByEveryRecordCheck_NotByTheChainChecks()
    {
        Prepare();
        var key = Key(_ids[1]);
        Raw((txn, db) =>
        {
            var stored = Get(txn, db(Tables.Logs), key);
            stored[^3] ^= 0x40;
            Assert.Equal(MDBResultCode.Success, txn.Put(db(Tables.Logs), key, stored));
        });

        var deep = DeepCheck();
        AssertErrors([(Tables.Logs, Hex(key), ErrorCodes.StorageCorruptRecord)], deep);

        var shard = Start();
        AssertHealthy(shard, Sealer(shard), Head(shard));
        AssertFindings([(Tables.Logs, Hex(key), ErrorCodes.StorageCorruptRecord)], Scrub(shard)!.Findings);
        var read = Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[1]), shard));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, read.Error.Code);
        Assert.Equal(new Dictionary<string, string> { ["store"] = Store, ["table"] = Tables.Logs, ["key"] = Hex(key) }, read.Error.Details);
        Assert.Contains($"store {Store}, table 'logs', key {Hex(key)}", read.Error.Message, StringComparison.Ordinal);
        Assert.IsType<LogFound>(Read(new GetLog(Callers.Reader, _ids[0]), shard));
    }

    [Fact]
    public void FlippedCiphertextByte_ChecksumRecomputed_PassesThePlainWalk_AndIsCaughtByAesGcm()
    {
        Prepare();
        var key = Key(_ids[1]);
        Raw((txn, db) =>
        {
            var payload = Payload(Get(txn, db(Tables.Logs), key));
            payload[^3] ^= 0x40;
            Put(txn, db(Tables.Logs), key, payload);
        });

        using (var plain = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0)))
        {
            Assert.True(plain.CheckIntegrity().IsHealthy); // the public checksum was recomputed
        }

        var deep = DeepCheck();
        AssertErrors([(Tables.Logs, Hex(key), ErrorCodes.CryptoTampered)], deep);
        Assert.Contains(Hex(key), deep.Errors[0].Message, StringComparison.Ordinal);

        var shard = Start();
        AssertHealthy(shard, Sealer(shard), Head(shard));
        AssertFindings([(Tables.Logs, Hex(key), ErrorCodes.CryptoTampered)], Scrub(shard)!.Findings);
        var read = Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[1]), shard));
        Assert.Equal(ErrorCodes.CryptoTampered, read.Error.Code);
        Assert.Equal(new Dictionary<string, string> { ["store"] = Store, ["table"] = Tables.Logs, ["key"] = Hex(key) }, read.Error.Details);
    }

    [Fact]
    public void SwappedCiphertextsOfTwoRecords_FailAuthenticationUnderBothKeys()
    {
        Prepare();
        var (a, b) = (Key(_ids[1]), Key(_ids[2]));
        Raw((txn, db) =>
        {
            var pa = Payload(Get(txn, db(Tables.Logs), a));
            var pb = Payload(Get(txn, db(Tables.Logs), b));
            Put(txn, db(Tables.Logs), a, pb);
            Put(txn, db(Tables.Logs), b, pa);
        });

        AssertErrors([(Tables.Logs, Hex(a), ErrorCodes.CryptoTampered), (Tables.Logs, Hex(b), ErrorCodes.CryptoTampered)], DeepCheck());
        var shard = Start();
        AssertHealthy(shard, Sealer(shard), Head(shard));
        AssertFindings([(Tables.Logs, Hex(a), ErrorCodes.CryptoTampered), (Tables.Logs, Hex(b), ErrorCodes.CryptoTampered)], Scrub(shard)!.Findings);
        Assert.Equal(ErrorCodes.CryptoTampered, Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[2]), shard)).Error.Code);
    }

    [Fact]
    public void DeletedMiddleAuditRecord_BreaksTheChainAtOpen_TheShardRefusesWritesAndReads_AndTheSealerLeavesItOut()
    {
        Prepare();
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events, typeof(IntegrityFindingReported));
        Raw((txn, db) => Assert.Equal(MDBResultCode.Success, txn.Delete(db(Tables.Audit), KeyCodec.UInt64(5))));

        var deep = DeepCheck();
        AssertErrors([(Tables.Audit, Hex(KeyCodec.UInt64(5)), ErrorCodes.AuditChainBroken)], deep);
        Assert.Contains("Deleted at seq 5", deep.Errors[0].Message, StringComparison.Ordinal);

        var shard = Start();
        var reported = events.ExpectMsg<IntegrityFindingReported>(Wait);
        Assert.Equal(("open", Store, Tables.Audit, 5L, "Deleted", ErrorCodes.AuditChainBroken), (reported.Detector, reported.Finding.Store, reported.Finding.Table, reported.Finding.Sequence!.Value, reported.Finding.Kind, reported.Finding.Code));

        var head = Head(shard);
        Assert.Equal(ErrorCodes.AuditChainBroken, head.Broken!.Code);
        Assert.Contains($"{Store}", head.Broken.Message, StringComparison.Ordinal);
        Assert.Contains("Deleted at seq 5", head.Broken.Message, StringComparison.Ordinal);
        var plan = Sealer(shard);
        Assert.Empty(plan.Heads);
        Assert.Equal(Store, Assert.Single(plan.Failed).ShardId);
        Assert.Equal(ErrorCodes.AuditChainBroken, plan.Failed[0].Code);
        Assert.Contains("Deleted at seq 5", plan.Failed[0].Reason, StringComparison.Ordinal);

        var write = Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[0]), shard));
        Assert.Equal(ErrorCodes.AuditChainBroken, write.Error.Code);
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("after the break")));
        Assert.Equal(ErrorCodes.AuditChainBroken, ExpectMsg<LogFailed>(Wait).Error.Code);
        var scrub = Scrub(shard)!;
        AssertFindings([(Tables.Audit, Hex(KeyCodec.UInt64(5)), ErrorCodes.AuditChainBroken)], scrub.Findings);
        Assert.Equal(5, scrub.Findings[0].Sequence);

        // Nothing was appended to the broken chain, and the break was reported once by the open check.
        Assert.Equal(head.Sequence, Head(shard).Sequence);
        Assert.All(events.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => (IntegrityFindingReported)m), r => Assert.NotEqual("open", r.Detector));
    }

    [Fact]
    public void DeletedLastSealedAuditRecord_IsATruncationBelowTheSealedHead()
    {
        Prepare();
        Raw((txn, db) => Assert.Equal(MDBResultCode.Success, txn.Delete(db(Tables.Audit), KeyCodec.UInt64(7))));

        var deep = DeepCheck();
        AssertErrors([(Tables.Audit, Hex(KeyCodec.UInt64(7)), ErrorCodes.AuditChainBroken)], deep);
        Assert.Contains("Truncated at seq 7", deep.Errors[0].Message, StringComparison.Ordinal);

        var shard = Start();
        var head = Head(shard);
        Assert.Equal(6, head.Sequence);
        Assert.Contains("Truncated at seq 7", head.Broken!.Message, StringComparison.Ordinal);
        var plan = Sealer(shard);
        Assert.Empty(plan.Heads);
        Assert.Equal((Store, ErrorCodes.AuditChainBroken), (plan.Failed[0].ShardId, plan.Failed[0].Code));

        // Even without the open check's verdict the sealer would not sign the forked head.
        var bare = SealRound.Plan(_ledger, [new HeadReport(Store, new ChainHead(Store, head.Sequence, head.Hash), null, null)]);
        Assert.Equal(ErrorCodes.AuditSealInvalid, Assert.Single(bare.Failed).Code);
        Assert.Contains("head 6 is behind the head 7 of seal 1", bare.Failed[0].Reason, StringComparison.Ordinal);

        AssertFindings([(Tables.Audit, Hex(KeyCodec.UInt64(7)), ErrorCodes.AuditChainBroken)], Scrub(shard)!.Findings);
        Assert.Equal(ErrorCodes.AuditChainBroken, Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[0]), shard)).Error.Code);
    }

    [Fact]
    public void ReorderedAuditRecords_AreReportedAsReordered()
    {
        Prepare();
        Raw((txn, db) =>
        {
            var (four, five) = (Get(txn, db(Tables.Audit), KeyCodec.UInt64(4)), Get(txn, db(Tables.Audit), KeyCodec.UInt64(5)));
            Put(txn, db(Tables.Audit), KeyCodec.UInt64(4), Payload(five));
            Put(txn, db(Tables.Audit), KeyCodec.UInt64(5), Payload(four));
        });

        var deep = DeepCheck();
        AssertErrors([(Tables.Audit, Hex(KeyCodec.UInt64(4)), ErrorCodes.AuditChainBroken)], deep);
        Assert.Contains("Reordered at seq 4", deep.Errors[0].Message, StringComparison.Ordinal);

        var shard = Start();
        Assert.Contains("Reordered at seq 4", Head(shard).Broken!.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.AuditChainBroken, Assert.Single(Sealer(shard).Failed).Code);
        AssertFindings([(Tables.Audit, Hex(KeyCodec.UInt64(4)), ErrorCodes.AuditChainBroken)], Scrub(shard)!.Findings);
        Assert.Equal(ErrorCodes.AuditChainBroken, Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[0]), shard)).Error.Code);
    }

    [Fact]
    public void IndexEntryPointedAtAnotherRecord_FailsItsRecordMac_InQueriesScrubsAndTheDeepCheck()
    {
        Prepare();
        byte[] moved = [];
        Raw((txn, db) =>
        {
            using var cursor = txn.CreateCursor(db(Tables.LogIndex));
            var (_, first, value) = cursor.First();
            var original = first.CopyToNewArray();
            var tag = Payload(value.CopyToNewArray());

            // Same topic token and time, the id of another entry, the original entry's tag.
            moved = [.. original[..^8], .. KeyCodec.UInt64(_ids[4].Value)];
            Assert.Equal(MDBResultCode.Success, txn.Delete(db(Tables.LogIndex), original));
            Put(txn, db(Tables.LogIndex), moved, tag);
        });

        AssertErrors([(Tables.LogIndex, Hex(moved), ErrorCodes.CryptoTampered)], DeepCheck());
        var shard = Start();
        AssertHealthy(shard, Sealer(shard), Head(shard));
        AssertFindings([(Tables.LogIndex, Hex(moved), ErrorCodes.CryptoTampered)], Scrub(shard)!.Findings);
        var query = Assert.IsType<LogFailed>(Read(new QueryLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)), shard));
        Assert.Equal(ErrorCodes.CryptoTampered, query.Error.Code);
        Assert.Equal(new Dictionary<string, string> { ["store"] = Store, ["table"] = Tables.LogIndex, ["key"] = Hex(moved) }, query.Error.Details);
    }

    [Fact]
    public void EditedShardMeta_FailsItsRecordMac_TheShardRefusesToOpen()
    {
        Prepare();
        Raw((txn, db) =>
        {
            // Lower the owner's epoch, so that a stale node's claim would be taken again.
            var payload = Payload(Get(txn, db(Tables.ShardMeta), "meta"u8.ToArray()));
            payload[16] ^= 0x01;
            Put(txn, db(Tables.ShardMeta), "meta"u8.ToArray(), payload);
        });

        AssertErrors([(Tables.ShardMeta, Hex("meta"u8.ToArray()), ErrorCodes.CryptoTampered)], DeepCheck());
        var shard = Start();
        shard.Tell(new ShardProtocol.GetAuditHead(Callers.System, ShardKind.Logs, 0));
        var failed = ExpectMsg<ShardProtocol.ShardFailed>(Wait);
        Assert.Equal(ErrorCodes.CryptoTampered, failed.Error.Code);
        Assert.Contains("shard_meta", failed.Error.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.Unavailable, Assert.Single(Sealer(shard).Failed).Code);
        shard.Tell(new ShardProtocol.ScrubNow(Callers.System, ShardKind.Logs, 0));
        Assert.Equal(ErrorCodes.CryptoTampered, ExpectMsg<ShardProtocol.ShardFailed>(Wait).Error.Code);
        Assert.Equal(ErrorCodes.CryptoTampered, Assert.IsType<LogFailed>(Read(new GetLog(Callers.Reader, _ids[0]), shard)).Error.Code);
    }
}
