using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// A handler whose shards also serve long-lived streams (events subscriptions). The shard actor
/// starts the stream actor as its child once the shard is open, sends it every admitted
/// <see cref="IShardStreamRequest"/> as <see cref="AdmittedStream"/>, and tells it <see cref="ShardCommitted"/> after every
/// successful group commit, so live data is pushed only once it is durable. The stream actor
/// reads the store through <see cref="ShardStreamRead"/> sent to the shard actor, which runs it
/// off the actor thread like a query and never closes the file under it.
/// </summary>
public interface IShardStreamHandler
{
    /// <summary>Props of the stream actor of one open shard; <paramref name="shard"/> is the shard actor.</summary>
    Props StreamProps(ShardContext context, IActorRef shard);
}

/// <summary>
/// An admitted stream request with its verified principal, sent by the shard actor to its stream
/// actor (the sender is the requester). A stream outlives the request: before sending anything
/// it checks the request's token again, and stops once the token has expired or its credential
/// was revoked; the subscriber then re-opens it with a fresh token. Local only.
/// </summary>
/// <param name="Request">The request.</param>
/// <param name="Principal">Its verified principal.</param>
public sealed record AdmittedStream(IShardStreamRequest Request, Principal Principal);

/// <summary>Sent by a shard actor to its stream actor after a commit: the group's commands and their replies, in order.</summary>
/// <param name="Commands">The committed commands.</param>
/// <param name="Replies">Their replies (same index).</param>
public sealed record ShardCommitted(IReadOnlyList<IShardCommand> Commands, IReadOnlyList<object> Replies);

/// <summary>
/// Asks the shard actor to run <paramref name="Read"/> in a read transaction off its thread; the
/// result (or a <see cref="Akka.Actor.Status.Failure"/>) goes back to the sender. Local only: it
/// carries a delegate and never crosses the wire.
/// </summary>
/// <param name="Read">The read.</param>
public sealed record ShardStreamRead(Func<IReadTransaction, object> Read);
