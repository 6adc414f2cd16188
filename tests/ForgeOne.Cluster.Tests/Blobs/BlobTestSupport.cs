using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Blobs;

public static class BlobHosts
{
    public static ShardHost Create(TempRoot root, IShardHandler handler, TimeProvider? time = null, int blobShards = 3, Policy? policy = null, Limits? limits = null, bool noSync = true)
    {
        time ??= TimeProvider.System;
        return new ShardHost(
            root.DataRoot,
            new ShardCounts(1, 1, blobShards),
            new ShardOptions { NoSync = noSync },
            new ShardSecurityFactory(new FileKekProvider(root.KeysDirectory, root.DataRoot), new NodeSecurity(TestAuth.Keys, time, "test-node", new PolicyAccess(policy)), time),
            new Dictionary<ShardKind, IShardHandler> { [ShardKind.Blobs] = handler },
            time,
            limits ?? Limits.Default);
    }

    /// <summary>Deterministic, not trivially compressible bytes.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

/// <summary>
/// A stand-in for the cluster-sharding region on one ActorSystem: routes by the same extractor
/// to one <see cref="ShardActor"/> child per entity, and can hand a shard off (as a rebalance would).
/// </summary>
public sealed class LocalShardRegion : ReceiveActor
{
    private readonly Dictionary<IActorRef, IActorRef> _handOffRequesters = [];

    public LocalShardRegion(ShardHost host, ShardKind kind)
    {
        var extractor = new ShardMessageExtractor(kind, host.Counts.Of(kind));
        Receive<HandOffShard>(h =>
        {
            var child = Context.Child(ShardEntityId.Of(kind, h.Shard));
            if (child.IsNobody())
            {
                Sender.Tell(new ShardHandedOff(h.Shard));
                return;
            }

            Context.Watch(child);
            _handOffRequesters[child] = Sender;
            child.Tell(ShardProtocol.HandOff.Instance);
        });
        Receive<Terminated>(t =>
        {
            if (_handOffRequesters.Remove(t.ActorRef, out var requester))
            {
                ShardEntityId.TryParse(t.ActorRef.Path.Name, out _, out var n);
                requester.Tell(new ShardHandedOff(n));
            }
        });
        Receive<IShardMessage>(m =>
        {
            var entity = extractor.EntityId(m);
            if (entity is null)
            {
                Sender.Tell(new BlobProtocol.BlobFailed(new ForgeOneError(ErrorCodes.InvalidArgument, "routes nowhere")));
                return;
            }

            var child = Context.Child(entity);
            if (child.IsNobody())
            {
                child = Context.ActorOf(ShardActor.Props(host, entity, "test-node"), entity);
            }

            child.Forward(m);
        });
    }

    public static Props Props(ShardHost host, ShardKind kind) => Akka.Actor.Props.Create(() => new LocalShardRegion(host, kind));

    public sealed record HandOffShard(int Shard);

    public sealed record ShardHandedOff(int Shard);
}
