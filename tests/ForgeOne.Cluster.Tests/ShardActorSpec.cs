using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

/// <summary>The shard actor alone (no cluster): group commit, acks, reads, hand-off, authorization.</summary>
public sealed class ShardActorSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private readonly TempRoot _root = new();

    public ShardActorSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "shard-actor-spec")
    {
    }

    private ShardHost Host(Action<ShardOptions>? tune = null) => TestHosts.Create(_root.DataRoot, _root.KeysDirectory, tune: tune);

    private IActorRef StartShard(ShardHost host, int n = 0) => Sys.ActorOf(ShardActor.Props(host, $"logs-{n}", "test-node"));

    private ShardProtocol.ShardStats Stats(IActorRef shard)
    {
        shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, 0), TestActor);
        return ExpectMsg<ShardProtocol.ShardStats>(TimeSpan.FromSeconds(10));
    }

    private void HandOffAndWait(IActorRef shard)
    {
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void GroupCommit_BurstOfConcurrentWritesCommitsInFarFewerTransactions()
    {
        const int n = 2000;
        var shard = StartShard(Host());
        var before = Stats(shard).CommitCount;

        // Many concurrent senders, as clients would be.
        var probes = Enumerable.Range(0, 20).Select(_ => CreateTestProbe()).ToArray();
        for (var i = 0; i < n; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry($"m{i}")), probes[i % probes.Length]);
        }

        foreach (var probe in probes)
        {
            probe.ReceiveN(n / probes.Length, TimeSpan.FromSeconds(30)).Should_all_be<LogAppended>();
        }

        var stats = Stats(shard);
        var commits = stats.CommitCount - before;
        Assert.Equal(n, stats.CommandsApplied);
        Assert.True(commits < n / 10, $"{n} writes took {commits} commits; group commit should batch them");
        Assert.True(commits >= 1);
    }

    [Fact]
    public void Acks_AreSentOnlyForCommittedWrites_EveryAckedIdIsInTheFileAfterHandOff()
    {
        var host = Host();
        var shard = StartShard(host);
        for (var i = 0; i < 500; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry($"m{i}")));
        }

        var ids = ReceiveN(500, TimeSpan.FromSeconds(30)).Cast<LogAppended>().Select(a => a.Id).ToList();
        HandOffAndWait(shard);

        using var store = ShardStore.Open(host.StoreOptions(ShardKind.Logs, 0));
        var stored = store.Read(txn => ids.Count(id => txn.Get(Tables.Logs, KeyCodec.UInt64(id.Value)) is not null));
        Assert.Equal(ids.Count, stored);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Acks_NeverPrecedeTheirCommit_HeldCommitHoldsTheAck_FailedCommitAcksNothing()
    {
        HookedStore? store = null;
        var host = Host() with { OpenStore = options => store = new HookedStore(ShardStore.Open(options)) };
        var shard = StartShard(host);
        Stats(shard); // open
        var held = new ManualResetEventSlim();
        var reached = new ManualResetEventSlim();
        store!.BeforeCommit = () =>
        {
            reached.Set();
            held.Wait(TimeSpan.FromSeconds(30));
        };

        // Held between its last write and its commit: no reply may exist yet.
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("held")));
        Assert.True(reached.Wait(TimeSpan.FromSeconds(10)), "the write did not reach its commit");
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        store.BeforeCommit = null;
        held.Set();
        var id = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;

        // A commit that fails: the writer hears the failure, never a success, and nothing is stored.
        store.BeforeCommit = () => throw new IOException("the disk refused the commit");
        EventFilter.Error(contains: "could not commit").ExpectOne(() =>
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("lost")));
            Assert.Equal(ErrorCodes.StorageIo, ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code);
        });
        store.BeforeCommit = null;
        HandOffAndWait(shard);

        using var reopened = ShardStore.Open(host.StoreOptions(ShardKind.Logs, 0));
        var messages = reopened.Read(txn => txn.Scan(Tables.Logs, [], []).Count());
        Assert.Equal(1, messages);
        Assert.NotNull(reopened.Read(txn => txn.Get(Tables.Logs, KeyCodec.UInt64(id.Value))));

        // The failed write's audit record was not lost with its transaction: it committed at hand-off.
        var audit = reopened.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.Equal([AuditOutcome.Success, AuditOutcome.Failed], audit.Where(r => r.Action == "logs.append").Select(r => r.Outcome));
        Assert.True(AuditVerifier.Verify(audit, "logs-0000").IsValid);
    }

    [Fact]
    public void Overload_BeyondThePendingLimit_IsRefusedAtOnceWithClusterOverloaded_AndAuditedAsOneRecordPerBurst()
    {
        HookedStore? store = null;
        var host = Host(o => o.MaxPendingCommands = 10) with { OpenStore = options => store = new HookedStore(ShardStore.Open(options)) };
        var shard = StartShard(host);
        Stats(shard); // open
        var held = new ManualResetEventSlim();
        var reached = new ManualResetEventSlim();
        store!.BeforeCommit = () =>
        {
            reached.Set();
            held.Wait(TimeSpan.FromSeconds(30));
        };

        // One write holds the shard in its commit while a client offers far more than it may queue.
        var client = CreateTestProbe();
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("first")), client);
        Assert.True(reached.Wait(TimeSpan.FromSeconds(10)), "the first write did not reach its commit");
        for (var i = 0; i < 49; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry($"offered-{i}")), client);
        }

        store.BeforeCommit = null;
        held.Set();

        // The first commits, ten more fit the queue; the other 39 are refused as they are read,
        // before the ten queued ones commit.
        var replies = client.ReceiveN(50, TimeSpan.FromSeconds(10));
        Assert.IsType<LogAppended>(replies.First());
        var refused = replies.OfType<LogFailed>().ToList();
        Assert.Equal(39, refused.Count);
        Assert.All(refused, f => Assert.Equal(ErrorCodes.Overloaded, f.Error.Code));
        Assert.Equal(11, replies.OfType<LogAppended>().Count());
        Assert.All(replies.Skip(1).Take(39), r => Assert.IsType<LogFailed>(r));
        HandOffAndWait(shard);

        using var reopened = ShardStore.Open(host.StoreOptions(ShardKind.Logs, 0));
        var audit = reopened.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        // Refused before admission, so no record each: the burst's one record counts them.
        Assert.Equal(0, audit.Count(r => r.Action == "logs.append" && r.Outcome == AuditOutcome.Failed));
        Assert.Equal(11, audit.Count(r => r.Action == "logs.append" && r.Outcome == AuditOutcome.Success));
        var shed = Assert.Single(audit, r => r.Action == GroupCommit<string>.ShedAction);
        Assert.Equal(AuditOutcome.Failed, shed.Outcome);
        Assert.Equal(Admission.UnauthenticatedPrincipal, shed.Principal);
        Assert.True(AuditVerifier.Verify(audit, "logs-0000").IsValid);
    }

    [Fact]
    public void Append_RefusesInvalidEntry_WithoutFailingItsNeighbours()
    {
        var shard = StartShard(Host());
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("ok-1")));
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry(bytes: 1024 * 1024)));
        shard.Tell(new AppendLog(Callers.Writer, "bad topic with spaces!", TestHosts.Entry("x")));
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("ok-2")));

        var replies = ReceiveN(4, TimeSpan.FromSeconds(10));
        Assert.Equal(2, replies.OfType<LogAppended>().Count());
        var failures = replies.OfType<LogFailed>().Select(f => f.Error.Code).Order().ToArray();
        Assert.Equal([ErrorCodes.InvalidTopic, ErrorCodes.MessageTooLarge], failures);
    }

    [Fact]
    public void Batch_IsOneOperationWithOneAuditRecord_AndReadableByRange()
    {
        var host = Host();
        var shard = StartShard(host);
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var entries = Enumerable.Range(0, 100).Select(i => new LogInput(start.AddMilliseconds(i), Common.Model.Severity.Info, $"b{i}")).ToArray();
        var auditBefore = Stats(shard).AuditSequence;

        shard.Tell(new AppendLogBatch(Callers.Writer, Topic, entries));
        var appended = ExpectMsg<LogBatchAppended>(TimeSpan.FromSeconds(10));
        Assert.Equal(100, appended.Ids.Length);
        Assert.Equal(auditBefore + 1, Stats(shard).AuditSequence);

        shard.Tell(new ReadLogRange(Callers.Reader, Topic, start, start.AddSeconds(1), 1000));
        var range = ExpectMsg<LogRange>(TimeSpan.FromSeconds(10));
        Assert.Equal(entries.Select(e => e.Message), range.Entries.Select(e => e.Message));
        Assert.All(range.Entries, e => Assert.Equal(Common.Model.ContentHashes.ForLog(e), e.ContentHash));

        shard.Tell(new GetLog(Callers.Reader, appended.Ids[42]));
        Assert.Equal("b42", ExpectMsg<LogFound>(TimeSpan.FromSeconds(10)).Entry.Message);
    }

    [Fact]
    public void ReadAudit_WaitsAtMostTheDelay_AndJoinsAnEarlierWriteCommit()
    {
        // A long delay: the read's record rides on the next write's group commit.
        var slow = StartShard(Host(o => o.ReadAuditDelay = TimeSpan.FromSeconds(10)), n: 1);
        var before = Stats(slow).AuditSequence;
        slow.Tell(new CountLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow));
        ExpectMsg<LogCount>(TimeSpan.FromSeconds(10));
        slow.Tell(new AppendLog(Callers.Writer, Topic, new LogInput(DateTimeOffset.UtcNow, Common.Model.Severity.Info, "after a read")));
        ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10));
        Assert.Equal(before + 2, Stats(slow).AuditSequence);

        // A short delay and no write at all: the record still commits on its own.
        var quick = StartShard(Host(o => o.ReadAuditDelay = TimeSpan.FromMilliseconds(100)), n: 2);
        var start = Stats(quick).AuditSequence;
        quick.Tell(new CountLogs(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow));
        ExpectMsg<LogCount>(TimeSpan.FromSeconds(10));
        AwaitAssert(() => Assert.Equal(start + 1, Stats(quick).AuditSequence), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Read_DuringLongWriteBurst_IsNotDelayedBehindIt()
    {
        var shard = StartShard(Host(o => o.MaxGroupCommit = 2000));
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("first")));
        var firstId = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;

        const int batches = 300;
        var writer = CreateTestProbe();
        var batch = Enumerable.Range(0, 500).Select(i => TestHosts.Entry($"burst-{i}")).ToArray();
        for (var i = 0; i < batches; i++)
        {
            shard.Tell(new AppendLogBatch(Callers.Writer, Topic, batch), writer);
        }

        shard.Tell(new GetLog(Callers.Reader, firstId), TestActor);
        Assert.Equal("first", ExpectMsg<LogFound>(TimeSpan.FromSeconds(30)).Entry.Message);

        // The read came back while most of the burst (150,000 entries) was still queued or committing.
        var acksSoFar = 0;
        while (writer.HasMessages)
        {
            writer.ReceiveOne(TimeSpan.Zero);
            acksSoFar++;
        }

        Assert.True(acksSoFar < batches, $"the read waited for {acksSoFar} of {batches} write batches");
        writer.ReceiveN(batches - acksSoFar, TimeSpan.FromSeconds(120));
    }

    [Fact]
    public void HandOff_FlushesClosesTheFileAndStops()
    {
        var host = Host();
        var shard = StartShard(host);
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("before hand-off")));
        var id = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;
        HandOffAndWait(shard);

        // The file is closed: this process can open it again (LMDB must never be open twice in
        // one process), claim it with a higher epoch and write to it.
        // (With the shard's keys: an authenticated file takes only tagged shard_meta writes.)
        using (var store = ShardStore.Open(host.StoreOptions(ShardKind.Logs, 0)))
        using (var security = host.Security.Open(store, ShardKind.Logs, 0))
        {
            var epoch = store.Meta.Owner!.Epoch;
            Assert.Equal("test-node", store.Meta.Owner.NodeAddress);
            store.UseAuthenticator(security.Mac);
            store.ClaimOwnership("other-node", epoch + 1);
            Assert.NotNull(store.Read(txn => txn.Get(Tables.Logs, KeyCodec.UInt64(id.Value))));
        }

        // A new incarnation takes over from the recorded epoch and serves the old data.
        var again = StartShard(host);
        again.Tell(new GetLog(Callers.Reader, id));
        Assert.Equal("before hand-off", ExpectMsg<LogFound>(TimeSpan.FromSeconds(10)).Entry.Message);
    }

    [Fact]
    public void Unauthorized_OperationsAreRefusedAndAuditedAsDenied()
    {
        var host = Host();
        var shard = StartShard(host);
        shard.Tell(new AppendLog(Callers.Reader, Topic, TestHosts.Entry("not allowed")));
        Assert.Equal(ErrorCodes.Forbidden, ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code);
        var stranger = TestAuth.Token("eve", ["no-such-role"], "acme", ["*"], 0);
        shard.Tell(new GetLog(stranger, new RecordId(1)));
        Assert.Equal(ErrorCodes.Forbidden, ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code);
        HandOffAndWait(shard);

        using var store = ShardStore.Open(host.StoreOptions(ShardKind.Logs, 0));
        var records = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.Contains(records, r => r.Principal == "bob" && r.Action == "logs.append" && r.Outcome == AuditOutcome.Denied);
        Assert.Contains(records, r => r.Principal == "eve" && r.Action == "logs.get" && r.Outcome == AuditOutcome.Denied);
        Assert.DoesNotContain(store.Read(txn => txn.Scan(Tables.Logs, [], []).ToList()), _ => true);
        Assert.True(AuditVerifier.Verify(records, "logs-0000").IsValid);
    }

    [Fact]
    public void CorruptFile_FailsLoudlyAndRefusesRequestsWithoutRestartLoop()
    {
        var host = Host();
        var path = ShardStore.PathFor(_root.DataRoot, ShardKind.Logs, 0);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Enumerable.Repeat((byte)0xAB, 64 * 1024).ToArray());

        var shard = EventFilter.Error(contains: "FAILED TO OPEN").ExpectOne(() => StartShard(host));
        Watch(shard);
        for (var i = 0; i < 3; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("x")));
            var failure = ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10));
            Assert.StartsWith("storage.", failure.Error.Code, StringComparison.Ordinal);
        }

        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void WrongKeyEncryptionKey_FailsLoudlyWithCryptoError()
    {
        var shard = StartShard(Host());
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("secret")));
        ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10));
        HandOffAndWait(shard);

        var otherKeys = TestHosts.Create(_root.DataRoot, Path.Combine(_root.Root, "other-keys"));
        var reopened = EventFilter.Error(contains: "FAILED TO OPEN").ExpectOne(() => StartShard(otherKeys));
        reopened.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("x")));
        Assert.StartsWith("crypto.", ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code, StringComparison.Ordinal);
    }

    [Fact]
    public void IdleShard_Passivates_WhileTheNodesCollectorsKeepReadingItsStatsAndAuditHead()
    {
        // The test actor is the parent, standing in for the sharding Shard that receives Passivate.
        var shard = ChildActorOf(ShardActor.Props(Host(o => o.PassivateIdleAfter = TimeSpan.FromSeconds(1)), "logs-0", "test-node"));
        var client = CreateTestProbe();
        // Started before the append is sent, so it never reads less than the shard's own idle time.
        var sinceClientActivity = System.Diagnostics.Stopwatch.StartNew();
        shard.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("x")), client);
        client.ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10));

        // As the metrics collector and the audit sealer do, many times within the idle period:
        // none of it is a client's activity, so the shard still passivates.
        var collector = CreateTestProbe();
        var asked = 0;
        object? toParent = null;
        while (toParent is null)
        {
            Assert.True(asked < 400, "no passivation while only the stats and the audit head were read");
            shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, 0), collector);
            collector.ExpectMsg<ShardProtocol.ShardStats>(TimeSpan.FromSeconds(10));
            shard.Tell(new ShardProtocol.GetAuditHead(Callers.System, ShardKind.Logs, 0), collector);
            collector.ExpectMsg<ShardProtocol.AuditHead>(TimeSpan.FromSeconds(10));
            asked++;
            toParent = ReceiveOne(TimeSpan.FromMilliseconds(25));
        }

        var passivate = Assert.IsType<Akka.Cluster.Sharding.Passivate>(toParent);
        Assert.True(sinceClientActivity.Elapsed >= TimeSpan.FromSeconds(1), $"passivated {sinceClientActivity.Elapsed} after the last client request, before the idle period was up");
        Assert.Same(ShardProtocol.HandOff.Instance, passivate.StopMessage);
        Watch(shard);
        shard.Tell(passivate.StopMessage);
        ExpectTerminated(shard, TimeSpan.FromSeconds(10));
    }

    public new void Dispose()
    {
        Shutdown();
        _root.Dispose();
    }
}

internal static class ReceiveExtensions
{
    public static void Should_all_be<T>(this IReadOnlyCollection<object> messages) =>
        Assert.All(messages, m => Assert.IsType<T>(m));
}
