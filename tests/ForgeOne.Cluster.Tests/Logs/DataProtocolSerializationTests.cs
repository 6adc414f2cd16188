using Akka.Actor;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Tests.Logs;

/// <summary>The log and system-store messages of issue 5 survive the wire serializer with every field intact.</summary>
public sealed class DataProtocolSerializationTests : IAsyncLifetime
{
    private static readonly LogCheckpoint Checkpoint = new("t", "cp", 2, new RecordId(7), DateTimeOffset.UnixEpoch, "alice");
    private static readonly LogTopicPolicy Policy = new("t", TimeSpan.FromDays(30), true, "eu", DateTimeOffset.UnixEpoch, "root");
    private static readonly LogEntry Entry = new(new RecordId(1), "t", DateTimeOffset.UnixEpoch, Severity.Error, "m", new Dictionary<string, string> { ["k"] = "v" }, "mark", new byte[32]);
    private ActorSystem _system = null!;

    public static TheoryData<string> Messages() => new(Samples.Keys);

    private static readonly Dictionary<string, object> Samples = new()
    {
        ["query"] = new QueryLogs(Callers.Reader, "t", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), Severity.Warning, 10, "tok", "eu"),
        ["count"] = new CountLogs(Callers.Reader, "t", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1)),
        ["checkpoint"] = new CreateCheckpoint(Callers.Writer, "t", "cp", new RecordId(3)),
        ["list"] = new ListCheckpoints(Callers.Reader, "t", "cp"),
        ["replay"] = new ReplayLogs(Callers.Reader, "t", Marker: "m", Limit: 5),
        ["policy"] = new SetLogTopicPolicy(Callers.Admin, "t", TimeSpan.FromHours(1), true, "eu"),
        ["sweep"] = new SweepLogRetention(Callers.System, 3, 100, "us"),
        ["page"] = new LogPage("t", [Entry], "tok"),
        ["log-count"] = new LogCount("t", 5),
        ["created"] = new CheckpointCreated(Checkpoint),
        ["checkpoints"] = new CheckpointList("t", [Checkpoint]),
        ["replay-page"] = new LogReplayPage("t", [Entry], null),
        ["policy-set"] = new LogTopicPolicySet(Policy),
        ["policy-current"] = new CurrentLogTopicPolicy("t", Policy),
        ["swept"] = new RetentionSwept(3, 10, 2, 1, true),
        ["put"] = new PutSetting(Callers.Admin, KeyValueTable.Metadata, "k", [1, 2], 4),
        ["history"] = new SettingHistory("k", [new SettingVersion("k", 1, [1], DateTimeOffset.UnixEpoch, "root")]),
        ["snapshot"] = new AddSnapshot(Callers.Admin, new SnapshotInfo("b1", "backup", DateTimeOffset.UnixEpoch, ["/x"], [1], 9, SnapshotStatus.Verified)),
        ["metrics"] = new RecordMetrics(Callers.System, [new MetricPoint("n", DateTimeOffset.UnixEpoch, 1.5, new Dictionary<string, string> { ["node"] = "a" })]),
        ["metrics-swept"] = new MetricsSwept(4, false),
        ["sweep-now"] = new RetentionSweeper.SweepNow(Callers.Admin),
        ["sweep-done"] = new RetentionSweeper.SweepCompleted(12),
    };

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ser-data", ClusterConfig.Build(new ForgeOneNodeOptions { Port = 0, Tls = new TlsOptions { Enabled = false } }));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    [Theory]
    [MemberData(nameof(Messages))]
    public void Message_RoundTripsWithItsFields(string name)
    {
        var message = Samples[name];
        var serializer = Assert.IsType<ForgeOneWireSerializer>(_system.Serialization.FindSerializerFor(message));

        var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));

        // Records compare arrays by reference; compare the printed form, which lists every member.
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(Print(message), Print(back));
    }

    private static string Print(object o) => o switch
    {
        LogPage p => $"{p.Topic}|{p.ContinuationToken}|{string.Join(",", p.Entries.Select(e => $"{e.Id}:{e.Message}:{e.Severity}:{e.Metadata["k"]}:{e.CheckpointMarker}"))}",
        LogReplayPage p => $"{p.Topic}|{p.ContinuationToken}|{string.Join(",", p.Entries.Select(e => $"{e.Id}:{e.Message}"))}",
        CheckpointList l => $"{l.Topic}|{string.Join(",", l.Checkpoints)}",
        SettingHistory h => $"{h.Key}|{string.Join(",", h.Versions.Select(v => $"{v.Version}:{v.ChangedBy}:{v.Value[0]}"))}",
        PutSetting p => $"{p.Key}|{p.Table}|{p.ExpectedVersion}|{string.Join(",", p.Value)}",
        AddSnapshot a => $"{a.Snapshot.Id}|{a.Snapshot.Status}|{a.Snapshot.Locations[0]}|{a.Snapshot.Size}",
        RecordMetrics m => string.Join(",", m.Samples.Select(s => $"{s.Name}:{s.Value}:{s.Labels["node"]}")),
        _ => o.ToString() ?? "",
    };
}
