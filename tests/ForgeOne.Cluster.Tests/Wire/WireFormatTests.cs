using Akka.Actor;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Wire;

/// <summary>The ForgeOne wire format: its layout, its schema rules, and what it refuses.</summary>
public sealed class WireFormatTests : TestKit
{
    // MessageField's bound: a message may hold messages this many levels deep.
    private const int MessageDepth = 4;

    private readonly ForgeOneWireSerializer _serializer;

    public WireFormatTests()
        : base("akka.loglevel = WARNING")
    {
        _serializer = new ForgeOneWireSerializer((ExtendedActorSystem)Sys);
    }

    [Fact]
    public void EveryAllowListedMessage_HasASchema()
    {
        Assert.NotEmpty(ProtocolTypes.ByManifest);
        foreach (var type in ProtocolTypes.ByManifest.Values)
        {
            Assert.StartsWith(type.FullName![(type.Namespace!.Length + 1)..] + "(", WireSchema.Describe(type), StringComparison.Ordinal);
        }

        // The data types messages carry are ForgeOne records, nothing else.
        Assert.Contains(typeof(PrincipalToken), ProtocolTypes.DataTypes());
        Assert.Contains(typeof(LogEntry), ProtocolTypes.DataTypes());
        Assert.All(ProtocolTypes.DataTypes(), t => Assert.StartsWith("ForgeOne.", t.Assembly.GetName().Name, StringComparison.Ordinal));
    }

    [Fact]
    public void Header_IsVersionThenSchemaFingerprint()
    {
        var bytes = _serializer.ToBinary(new LogCount("t", 5));
        Assert.Equal(ForgeOneWireSerializer.FormatVersion, bytes[0]);
        Assert.Equal(BitConverter.GetBytes(WireSchema.Fingerprint(typeof(LogCount))), bytes[1..5]);
    }

    [Fact]
    public void Body_IsTheFieldsInConstructorOrder()
    {
        var codec = (IWireRecord)WireSchema.For(typeof(Probe.Layout));
        using var writer = new WireWriter((IWireContext)_serializer);
        codec.WriteBody(writer, new Probe.Layout("t", new RecordId(0x0102030405060708), -2, true, null, [1, 2], Severity.Warning));
        byte[] expected = [0x02, (byte)'t', 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x03, 0x01, 0x00, 0x03, 0x02, 0x04, (byte)(2 * (int)Severity.Warning)];
        Assert.Equal(expected, writer.ToArray());
        Assert.Equal("Probe+Layout(Topic:str!,Id:id,Delta:i32,Flag:bool,Missing:str,Values:[i32]!,Level:enum Severity(0,1,2,3,4,5))", codec.Describe);
    }

    [Fact]
    public void Decoding_KeepsEveryFieldIncludingOffsetsAndDictionaries()
    {
        var at = new DateTimeOffset(2026, 3, 1, 12, 30, 0, TimeSpan.FromHours(5.5));
        var input = new AppendLog(Callers.Writer, "orders", new LogInput(at, Severity.Error, "m€ssage", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }, "cp"), "eu");
        var back = Assert.IsType<AppendLog>(_serializer.FromBinary(_serializer.ToBinary(input), _serializer.Manifest(input)));
        Assert.Equal(at, back.Entry.Timestamp);
        Assert.Equal(at.Offset, back.Entry.Timestamp.Offset);
        Assert.Equal(["b", "a"], back.Entry.Metadata!.Keys);
        Assert.Equal(input.Token.Value, back.Token.Value);
        Assert.Equal((input.Topic, input.Zone, input.Entry.Message, input.Entry.CheckpointMarker), (back.Topic, back.Zone, back.Entry.Message, back.Entry.CheckpointMarker));
    }

    [Fact]
    public void ActorReferences_TravelAsPathsAndResolveToTheSameActor()
    {
        var probe = CreateTestProbe();
        var started = new EventProtocol.SubscriptionStarted("s", 1, probe.Ref, null);
        var back = Assert.IsType<EventProtocol.SubscriptionStarted>(_serializer.FromBinary(_serializer.ToBinary(started), _serializer.Manifest(started)));
        back.Source.Tell("hello");
        probe.ExpectMsg("hello");
    }

    [Fact]
    public void NonNullableField_IsRefusedNullOnBothSides()
    {
        var sent = Assert.Throws<WireFormatException>(() => _serializer.ToBinary(new LogAppended(null!, new RecordId(1))));
        Assert.Equal(ErrorCodes.WireMalformed, sent.Error.Code);
        Assert.Contains("LogAppended.Topic", sent.Error.Message, StringComparison.Ordinal);

        // The same bytes a sender without the check would produce: a null marker where Topic is.
        var bytes = _serializer.ToBinary(new LogAppended("t", new RecordId(1)));
        byte[] forged = [.. bytes[..5], 0x00, .. bytes[7..]];
        var received = Assert.Throws<WireFormatException>(() => _serializer.FromBinary(forged, _serializer.Manifest(new LogAppended("t", new RecordId(1)))));
        Assert.Equal(ErrorCodes.WireMalformed, received.Error.Code);
    }

    [Fact]
    public void UndefinedEnumValue_IsRefused()
    {
        var stats = new ShardProtocol.GetShardStats(Callers.Admin, ShardKind.Logs, 3);
        var bytes = _serializer.ToBinary(stats);
        var other = _serializer.ToBinary(stats with { Kind = ShardKind.Events });
        var kind = Enumerable.Range(0, bytes.Length).First(i => bytes[i] != other[i]);
        bytes[kind] = 0x7E; // Kind: zig-zag 63, no such ShardKind
        Assert.Equal(ErrorCodes.WireMalformed, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(bytes, _serializer.Manifest(stats))).Error.Code);
    }

    [Fact]
    public void TrailingBytes_AndForeignFingerprints_AreRefused()
    {
        var message = new LogCount("t", 5);
        var bytes = _serializer.ToBinary(message);
        Assert.Equal(ErrorCodes.WireMalformed, Assert.Throws<WireFormatException>(() => _serializer.FromBinary([.. bytes, 0], _serializer.Manifest(message))).Error.Code);

        var other = (byte[])bytes.Clone();
        other[1] ^= 0x01;
        Assert.Equal(ErrorCodes.WireSchemaMismatch, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(other, _serializer.Manifest(message))).Error.Code);

        // Bytes of one message under another's manifest: the fingerprint tells them apart.
        Assert.Equal(ErrorCodes.WireSchemaMismatch, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(bytes, ProtocolTypes.ManifestOf(typeof(LogAppended)))).Error.Code);
    }

    [Fact]
    public void UnknownManifests_AndTypesOffTheAllowList_AreRefused()
    {
        var bytes = _serializer.ToBinary(new LogCount("t", 5));
        foreach (var manifest in new[] { "System.IO.FileInfo, System.IO.FileSystem", "ForgeOne.Security.PrincipalToken", string.Empty })
        {
            Assert.Equal(ErrorCodes.WireUnknownType, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(bytes, manifest)).Error.Code);
        }

        Assert.Equal(ErrorCodes.WireUnknownType, Assert.Throws<WireFormatException>(() => _serializer.ToBinary(new Probe.WithObject("x"))).Error.Code);
    }

    [Fact]
    public void NestedMessages_AreOnlyTheAllowListedOnesOfTheDeclaredKind()
    {
        var batch = new ShardProtocol.CommandBatch(ShardKind.Logs, 1, [new AppendLog(Callers.Writer, "t", new LogInput(DateTimeOffset.UnixEpoch, Severity.Info, "m"))]);
        var back = Assert.IsType<ShardProtocol.CommandBatch>(_serializer.FromBinary(_serializer.ToBinary(batch), _serializer.Manifest(batch)));
        Assert.Equal("m", Assert.IsType<AppendLog>(Assert.Single(back.Commands)).Entry.Message);

        // The same bytes with the command's fingerprint replaced by a reply's: a reply is not a command.
        var bytes = _serializer.ToBinary(batch);
        var at = bytes.AsSpan().IndexOf(BitConverter.GetBytes(WireSchema.Fingerprint(typeof(AppendLog))));
        BitConverter.GetBytes(WireSchema.Fingerprint(typeof(LogFailed))).CopyTo(bytes, at);
        Assert.Equal(ErrorCodes.WireUnknownType, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(bytes, _serializer.Manifest(batch))).Error.Code);
    }

    [Fact]
    public void NestedMessages_AreBoundedInDepth()
    {
        IForgeOneMessage nested = new LogCount("t", 1);
        for (var i = 0; i < MessageDepth; i++)
        {
            nested = new ShardProtocol.CommandBatchReplies([nested]);
        }

        var tooDeep = new ShardProtocol.CommandBatchReplies([nested]);
        Assert.IsType<ShardProtocol.CommandBatchReplies>(_serializer.FromBinary(_serializer.ToBinary(nested), _serializer.Manifest(nested)));
        Assert.Equal(ErrorCodes.WireMalformed, Assert.Throws<WireFormatException>(() => _serializer.FromBinary(_serializer.ToBinary(tooDeep), _serializer.Manifest(tooDeep))).Error.Code);
    }

    [Theory]
    [InlineData(typeof(Probe.WithObject), "Probe+WithObject.Value: type System.Object is not supported")]
    [InlineData(typeof(Probe.WithInterface), "Probe+WithInterface.Resource: type System.IDisposable is not supported")]
    [InlineData(typeof(Probe.WithOpenClass), "Probe+WithOpenClass.Value: type ForgeOne.Cluster.Tests.Wire.Probe+Open is not supported")]
    [InlineData(typeof(Probe.WithDroppedProperty), "settable properties Extra are not constructor parameters")]
    [InlineData(typeof(Probe.Recursive), "contains itself")]
    [InlineData(typeof(Probe.TwoConstructors), "has 2 public constructors")]
    [InlineData(typeof(Probe.WithFrameworkClass), "type System.IO.FileInfo is not supported")]
    public void Schema_RefusesWhatItCannotEncodeWithoutTypeNames(Type type, string reason)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => WireSchema.For(type));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }
}

#pragma warning disable CA1034 // nested test types
public static class Probe
{
    public sealed record Layout(string Topic, RecordId Id, int Delta, bool Flag, string? Missing, int[] Values, Severity Level);

    public sealed record WithObject(object Value) : IForgeOneMessage;

    public sealed record WithInterface(IDisposable Resource);

    public class Open;

    public sealed record WithOpenClass(Open Value);

    public sealed record WithDroppedProperty(string Name)
    {
        public string? Extra { get; set; }
    }

    public sealed record Recursive(string Name, Recursive? Next);

    public sealed class TwoConstructors
    {
        public TwoConstructors(string name) => Name = name;

        public TwoConstructors(int number) => Name = number.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public string Name { get; }
    }

    public sealed record WithFrameworkClass(FileInfo File);
}
#pragma warning restore CA1034
