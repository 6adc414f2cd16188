using System.Reflection;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using Akka.Remote.Serialization;
using Akka.Serialization;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Protocol.Wire;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests.Wire;

/// <summary>
/// What a member's bytes can reach: the exact set of serializers a running node has registered
/// (a serializer id in a message picks one of these, whatever the message claims to be), and the
/// refusals of the ones that would build objects from type names.
/// </summary>
public sealed class SerializerRegistryTests : IAsyncLifetime
{
    // Every registered serializer and why it is safe for bytes from another member. Adding one
    // (an Akka upgrade, a new module) fails here until it is reviewed and listed.
    private static readonly Dictionary<int, Type> Expected = new()
    {
        [0] = typeof(NullSerializer),                     // no payload
        [1] = typeof(RefusedSerializer),                  // Newtonsoft JSON ($type names): refused
        [2] = typeof(RefusedSerializer),                  // Protobuf by manifest type name: refused
        [3] = typeof(RefusedSerializer),                  // remote deployment (DaemonMsgCreate): refused
        [4] = typeof(ByteArraySerializer),                // the bytes themselves
        [5] = typeof(Akka.Cluster.Serialization.ClusterMessageSerializer),                 // fixed schemas; nested payloads by this registry
        [6] = typeof(MessageContainerSerializer),         // actor selection; the inner message by this registry
        [7] = typeof(Akka.Persistence.Serialization.PersistenceMessageSerializer),         // Akka's own record types only
        [8] = typeof(Akka.Persistence.Serialization.PersistenceSnapshotSerializer),        // Akka's own record type only
        [11] = typeof(Akka.DistributedData.Serialization.ReplicatedDataSerializer),        // fixed schemas; values by this registry
        [12] = typeof(Akka.DistributedData.Serialization.ReplicatorMessageSerializer),
        [13] = typeof(Akka.Cluster.Sharding.Serialization.ClusterShardingMessageSerializer),
        [14] = typeof(Akka.Cluster.Tools.Singleton.Serialization.ClusterSingletonMessageSerializer),
        [16] = typeof(GuardedMiscMessageSerializer),      // Akka misc minus exceptions and remote deployment
        [17] = typeof(PrimitiveSerializers),              // string, int, long
        [22] = typeof(GuardedSystemMessageSerializer),    // remote death watch only
        [30] = typeof(Akka.Streams.Serialization.StreamRefSerializer),                     // stream refs: fixed schemas; elements by this registry
        [36] = typeof(Akka.Cluster.Serialization.ClusterMessageSerializer).Assembly.GetType("Akka.Cluster.Serialization.ReliableDeliverySerializer", throwOnError: true)!, // fixed schemas; payloads by this registry
        [SingletonEventSerializer.SerializerId] = typeof(SingletonEventSerializer),
        [BackupEventSerializer.SerializerId] = typeof(BackupEventSerializer), // backup journal events: System.Text.Json into one fixed type
        [ForgeOneWireSerializer.SerializerId] = typeof(ForgeOneWireSerializer),
    };

    private readonly TempRoot _root = new();
    private InProcessNode _node = null!;

    private Akka.Serialization.Serialization Serialization => _node.System.Serialization;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        _node = await InProcessNode.StartAsync(InProcessNode.Options_(_root, port, port));

        // Modules register their serializers when they load: load every one a node can, so the
        // registry below is the whole set, not whatever had loaded by then.
        _ = Akka.Persistence.Persistence.Instance.Apply(_node.System).JournalFor(null);
        _ = Akka.Streams.ActorMaterializer.Create(_node.System);
    }

    public async Task DisposeAsync()
    {
        await _node.System.Terminate();
        _root.Dispose();
    }

    [Fact]
    public void RunningNode_RegistersExactlyTheReviewedSerializers()
    {
        // Private in Akka; read by reflection because the question is exactly "what is in it".
        var field = typeof(Akka.Serialization.Serialization).GetField("_serializersById", BindingFlags.NonPublic | BindingFlags.Instance)!;
        var registered = ((Dictionary<int, Serializer>)field.GetValue(Serialization)!).ToDictionary(kv => kv.Key, kv => kv.Value.GetType());
        var unexpected = registered.Where(kv => !Expected.TryGetValue(kv.Key, out var type) || type != kv.Value).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var missing = Expected.Where(kv => !registered.ContainsKey(kv.Key)).Select(kv => $"{kv.Key}={kv.Value}").ToList();
        Assert.True(unexpected.Count == 0 && missing.Count == 0, $"unreviewed: [{string.Join(", ", unexpected)}]; missing: [{string.Join(", ", missing)}]");
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "Akka.Serialization.Hyperion");
    }

    [Theory]
    [InlineData(1, "System.Object, System.Private.CoreLib")]
    [InlineData(2, "Akka.Remote.Serialization.Proto.Msg.Payload, Akka.Remote")]
    [InlineData(3, "Akka.Remote.DaemonMsgCreate, Akka.Remote")]
    public void TypeNameSerializers_RefuseWhatArrivesForThem(int id, string manifest)
    {
        var refused = Assert.Throws<WireFormatException>(() => Serialization.Deserialize("{\"$type\":\"System.IO.FileInfo, System.IO.FileSystem\"}"u8.ToArray(), id, manifest));
        Assert.Equal(ErrorCodes.WireUnknownType, refused.Error.Code);
    }

    [Fact]
    public void UnboundType_FailsToSendInsteadOfGoingOutAsJson()
    {
        var serializer = Serialization.FindSerializerFor(new NotAWireMessage("x"));
        Assert.IsType<RefusedSerializer>(serializer);
        Assert.Equal(ErrorCodes.WireUnknownType, Assert.Throws<WireFormatException>(() => serializer.ToBinary(new NotAWireMessage("x"))).Error.Code);
    }

    [Fact]
    public void StatusFailure_IsBoundToTheWireFormat_AndAkkasExceptionFormIsRefused()
    {
        var failure = new Status.Failure(new InvalidOperationException("boom"));
        var serializer = Assert.IsType<ForgeOneWireSerializer>(Serialization.FindSerializerFor(failure));
        var back = Assert.IsType<Status.Failure>(serializer.FromBinary(serializer.ToBinary(failure), serializer.Manifest(failure)));
        var error = Assert.IsType<ForgeOneException>(back.Cause).Error;
        Assert.Equal(new ForgeOneError(ErrorCodes.RemoteFailure, "InvalidOperationException: boom"), error);

        // What a member would send with Akka's own misc serializer: an exception rebuilt from its type name.
        var akka = new MiscMessageSerializer((ExtendedActorSystem)_node.System);
        var refused = Assert.Throws<WireFormatException>(() => Serialization.Deserialize(akka.ToBinary(failure), GuardedMiscMessageSerializer.AkkaIdentifier, akka.Manifest(failure)));
        Assert.Equal(ErrorCodes.WireUnknownType, refused.Error.Code);
    }

    [Fact]
    public void GuardedMisc_StillCarriesIdentifyAndActorIdentity()
    {
        var serializer = Serialization.FindSerializerFor(new Identify(42));
        Assert.IsType<GuardedMiscMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, new Identify(42));
        var back = Assert.IsType<Identify>(Serialization.Deserialize(serializer.ToBinary(new Identify(42)), serializer.Identifier, manifest));
        Assert.Equal(42, back.MessageId);
    }

    [Fact]
    public void GuardedSystemMessages_AcceptDeathWatch_RefuseFailureCarriers()
    {
        var akka = new SystemMessageSerializer((ExtendedActorSystem)_node.System);
        var self = (IInternalActorRef)_node.System.DeadLetters;
        var watch = new Watch(self, self);
        var serializer = Serialization.FindSerializerFor(watch);
        Assert.IsType<GuardedSystemMessageSerializer>(serializer);
        Assert.IsType<Watch>(Serialization.Deserialize(akka.ToBinary(watch), GuardedSystemMessageSerializer.AkkaIdentifier, typeof(Watch).AssemblyQualifiedName!.Split(", Version")[0]));

        var failed = new Failed(self, new InvalidOperationException("boom"), 1);
        var refused = Assert.Throws<WireFormatException>(() => Serialization.Deserialize(akka.ToBinary(failed), GuardedSystemMessageSerializer.AkkaIdentifier, typeof(Failed).AssemblyQualifiedName!.Split(", Version")[0]));
        Assert.Equal(ErrorCodes.WireUnknownType, refused.Error.Code);
    }

    private sealed record NotAWireMessage(string Text);
}
