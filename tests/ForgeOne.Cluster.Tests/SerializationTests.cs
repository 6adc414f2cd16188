using Akka.Actor;
using Akka.Serialization;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

/// <summary>Every protocol message survives the wire with the node's real serializer settings.</summary>
public sealed class SerializationTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private ActorSystem _system = null!;

    public SerializationTests(ITestOutputHelper output) => _output = output;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ser", ClusterConfig.Build(new ForgeOneNodeOptions { Port = 0, Tls = new TlsOptions { Enabled = false } }));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    public static TheoryData<string> Messages() => new(Samples.Keys);

    private static readonly Dictionary<string, object> Samples = new()
    {
        ["append"] = new AppendLog(Callers.Writer, "t", new LogInput(DateTimeOffset.UnixEpoch, Common.Model.Severity.Info, "m", new Dictionary<string, string> { ["k"] = "v" }, "cp")),
        ["batch"] = new AppendLogBatch(Callers.Writer, "t", [new LogInput(DateTimeOffset.UnixEpoch, Common.Model.Severity.Info, "m")]),
        ["append-request-id"] = new AppendLog(Callers.Writer, "t", new LogInput(DateTimeOffset.UnixEpoch, Common.Model.Severity.Info, "m"), RequestId: new RequestId("p", 7, [1, 2])),
        ["command-batch"] = new ShardProtocol.CommandBatch(ShardKind.Logs, 3, [new AppendLog(Callers.Writer, "t", new LogInput(DateTimeOffset.UnixEpoch, Common.Model.Severity.Info, "m"), RequestId: new RequestId("p", 1))]),
        ["command-batch-replies"] = new ShardProtocol.CommandBatchReplies([new LogAppended("t", new RecordId(1), Replayed: true), new LogFailed(new ForgeOneError(ErrorCodes.RequestInFlight, "x"))]),
        ["get"] = new GetLog(Callers.Reader, new RecordId(42)),
        ["appended"] = new LogAppended("t", new RecordId(42)),
        ["batch-appended"] = new LogBatchAppended("t", [new RecordId(1), new RecordId(2)]),
        ["found"] = new LogFound(new Common.Model.LogEntry(new RecordId(1), "t", DateTimeOffset.UnixEpoch, Common.Model.Severity.Warning, "m", new Dictionary<string, string> { ["a"] = "b" }, null, new byte[32])),
        ["range"] = new LogRange("t", []),
        ["failed"] = new LogFailed(new ForgeOneError(ErrorCodes.Forbidden, "no")),
        ["stats"] = new ShardProtocol.ShardStats(ShardKind.Logs, 1, 2, 3, 4, "/f", "node"),
        ["head"] = new ShardProtocol.AuditHead(ShardKind.Logs, 1, 2, new byte[32], "logs-0001"),
        ["handoff"] = ShardProtocol.HandOff.Instance,
        ["counts"] = new SystemProtocol.RecordShardCounts(Callers.System, 1, 2, 3),
        ["seal-done"] = new SealerProtocol.SealDone(1, DateTimeOffset.UnixEpoch, 3, "n", []),
        ["seal-history"] = new SealerProtocol.SealHistory([1, 2], [[1], [2]]),
        ["rotate"] = new ShardProtocol.RotateKey(Callers.System, ShardKind.Events, 0, "r", true),
        ["backup"] = new BackupProtocol.BackupSchedule(TimeSpan.FromDays(7), TimeSpan.FromHours(1), TimeSpan.FromDays(91), DateTimeOffset.UnixEpoch, "x", "n", null, DateTimeOffset.UnixEpoch),
        ["backup-shard"] = new BackupProtocol.BackupShard(ShardKind.Logs, 2, "eu", Callers.System, "b-1", 2, 17, [1, 2, 3]),
        ["backup-info"] = new BackupProtocol.BackupInfo("b-1", BackupProtocol.BackupKind.Incremental, "b-0", "b-0", "completed", DateTimeOffset.UnixEpoch, null, 5, ["a"], 1, 2, "root", null),
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void Message_RoundTripsThroughTheWireFormat(string name)
    {
        var message = Samples[name];
        var serializer = Assert.IsType<ForgeOneWireSerializer>(_system.Serialization.FindSerializerFor(message));
        var bytes = serializer.ToBinary(message);
        var back = serializer.FromBinary(bytes, serializer.Manifest(message));
        Assert.Equal(message.GetType(), back.GetType());
    }

    [Fact]
    public void SingletonEvents_UseTheirOwnBinaryFormat()
    {
        var e = new KeyEventsRecorded(DateTimeOffset.UnixEpoch, "logs-1", ["keys.rotated keys/logs-0001/v2"]);
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(e);
        Assert.IsType<SingletonEventSerializer>(serializer);
        var back = (KeyEventsRecorded)serializer.FromBinary(serializer.ToBinary(e), serializer.Manifest(e));
        Assert.Equal(e.Events, back.Events);
        Assert.Equal(e.Shard, back.Shard);
    }

    [Fact]
    public void Wire_RefusesManifestsOutsideTheAllowList()
    {
        var serializer = (ForgeOneWireSerializer)_system.Serialization.FindSerializerForType(typeof(IForgeOneMessage));
        var bytes = serializer.ToBinary(new SealerProtocol.SealDone(1, DateTimeOffset.UnixEpoch, 1, "n", []));
        var refused = Assert.Throws<WireFormatException>(() => serializer.FromBinary(bytes, typeof(FileInfo).FullName!));
        _output.WriteLine(refused.Message);
        Assert.Equal(ErrorCodes.WireUnknownType, refused.Error.Code);
    }
}
