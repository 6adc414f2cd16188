using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using LightningDB;
using Microsoft.Extensions.Time.Testing;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>The background scrubber finds damage on its own; the node reports each finding once, counts it and audits it.</summary>
public sealed class ScrubberAndReporterSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TempRoot _root = new();

    public ScrubberAndReporterSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "scrubber-reporter")
    {
    }

    void IDisposable.Dispose() => _root.Dispose();

    [Fact]
    public void BackgroundScrubber_FindsATamperedRecordWithoutBeingAsked()
    {
        var scrubber = new ScrubberOptions { Enabled = true, RateMBps = 100, PassInterval = TimeSpan.FromMilliseconds(200) };
        var host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory) with { Scrubber = scrubber, ScrubThrottle = new ScrubThrottle(100_000_000, TimeProvider.System) };
        var shard = Sys.ActorOf(ShardActor.Props(host, "logs-0", "test-node"));
        shard.Tell(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("scrub me")));
        var id = ExpectMsg<LogAppended>(Wait).Id;
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, Wait);

        var key = RecordKeys.Primary(id);
        using (var env = new LightningEnvironment(ShardStore.PathFor(host.StoreOptions(ShardKind.Logs, 0).DataRoot, ShardKind.Logs, 0), new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 }))
        {
            env.Open(EnvironmentOpenFlags.NoSubDir);
            using var txn = env.BeginTransaction();
            using var logs = txn.OpenDatabase(Tables.Logs);
            var payload = txn.Get(logs, key).value.CopyToNewArray()[RecordEnvelope.HeaderSize..];
            payload[^1] ^= 0x80;
            txn.Put(logs, key, RecordEnvelope.Wrap(key, payload));
            Assert.Equal(MDBResultCode.Success, txn.Commit());
        }

        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events, typeof(IntegrityFindingReported));
        Sys.ActorOf(ShardActor.Props(host, "logs-0", "test-node"));
        var found = events.FishForMessage<IntegrityFindingReported>(r => r.Detector == "scrubber", Wait);
        Assert.Equal(("logs-0000", Tables.Logs, KeyCodec.ToHex(key), ErrorCodes.CryptoTampered), (found.Finding.Store, found.Finding.Table, found.Finding.KeyHex, found.Finding.Code));
    }

    [Fact]
    public void Reporter_AuditsAndCountsEachFindingOnce_WhoeverSeesIt()
    {
        var counted = new List<(long Value, string? Store)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IntegrityMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "store" && (string?)tag.Value == "logs-0042")
                {
                    lock (counted)
                    {
                        counted.Add((value, (string?)tag.Value));
                    }
                }
            }
        });
        listener.Start();

        var system = CreateTestProbe();
        var reporter = Sys.ActorOf(IntegrityReporter.Props(system, "node-a", TestAuth.Node().Identity));
        var finding = new IntegrityFinding("logs-0042", Tables.Audit, "0000000000000005", 5, ErrorCodes.AuditChainBroken, "Deleted", "store logs-0042: audit chain Deleted at seq 5");
        reporter.Tell(IntegrityReporter.GetFindings.Instance);
        Assert.Empty(ExpectMsg<IntegrityReporter.CurrentFindings>(Wait).Findings); // subscribed
        reporter.Tell(new IntegrityFindingReported(finding, "open"));
        reporter.Tell(new IntegrityFindingReported(finding, "scrubber"));

        var recorded = system.ExpectMsg<SystemProtocol.RecordIntegrityEvent>(Wait);
        Assert.Equal((ErrorCodes.AuditChainBroken, "integrity/logs-0042/audit/0000000000000005/seq/5/Deleted"), (recorded.Action, recorded.Resource));
        Assert.Contains("detector=open node=node-a", recorded.Detail, StringComparison.Ordinal);
        system.Reply(new SystemProtocol.IntegrityEventRecorded(recorded.Action, recorded.Resource));
        system.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        reporter.Tell(IntegrityReporter.GetFindings.Instance);
        Assert.Equal([finding], ExpectMsg<IntegrityReporter.CurrentFindings>(Wait).Findings);
        lock (counted)
        {
            Assert.Equal([(1L, "logs-0042")], counted);
        }
    }

    [Fact]
    public void Reporter_RetriesUntilTheSystemStoreTakesTheRecord()
    {
        var system = CreateTestProbe();
        var reporter = Sys.ActorOf(IntegrityReporter.Props(system, "node-a", TestAuth.Node().Identity));
        reporter.Tell(new IntegrityEventReported("audit.incarnation", "integrity/seal/7", "by=root"));
        var first = system.ExpectMsg<SystemProtocol.RecordIntegrityEvent>(Wait);
        system.Reply(new SystemProtocol.SystemFailed(new ForgeOneError(ErrorCodes.Unavailable, "moving")));
        var second = system.ExpectMsg<SystemProtocol.RecordIntegrityEvent>(Wait);
        Assert.Equal(first, second);
    }

    [Fact]
    public void ScrubThrottle_SpacesSlicesToTheSharedRate()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new ScrubThrottle(1_000_000, clock);
        Assert.Equal(TimeSpan.FromMilliseconds(500), throttle.Reserve(500_000));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), throttle.Reserve(500_000)); // another shard shares the budget
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromMilliseconds(100), throttle.Reserve(100_000)); // idle time is not banked
    }
}
