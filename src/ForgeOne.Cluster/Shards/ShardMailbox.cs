using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using ForgeOne.Cluster.Protocol;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// Shard mailbox: queries and control messages overtake queued writes, so a read during a long
/// write burst is served from a read transaction at once instead of after the burst:
/// reads must not queue behind the write queue. Stable: messages of equal priority keep their
/// order, which keeps a sender's writes and the group-commit Flush in arrival order.
/// </summary>
public sealed class ShardMailbox : UnboundedStablePriorityMailbox
{
    /// <summary>Created by Akka from the <c>forgeone.shard-mailbox</c> config.</summary>
    public ShardMailbox(Settings settings, Config config)
        : base(settings, config)
    {
    }

    /// <inheritdoc />
    protected override int PriorityGenerator(object message) =>
        message switch
        {
            IShardQuery or IShardControl => 0,
            _ => 1,
        };
}
