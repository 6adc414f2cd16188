using ForgeOne.Cluster.Protocol;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// Optional for an <see cref="IShardHandler"/> whose shards need periodic housekeeping (blob
/// shards clean up abandoned uploads). Every <see cref="MaintenanceInterval"/> the shard actor
/// asks <see cref="MaintenanceCommand"/> from a short read transaction on its own thread; a
/// returned command is admitted and group-committed like a client's (so it is authorized and
/// audited), with its reply dropped. Returning null when there is nothing to do keeps an idle
/// shard free to passivate: the timer tick itself does not count as activity.
/// </summary>
public interface IShardMaintenance
{
    /// <summary>How often to ask for maintenance work.</summary>
    TimeSpan MaintenanceInterval { get; }

    /// <summary>The command to run now, or null when there is nothing to do.</summary>
    IShardCommand? MaintenanceCommand(IReadTransaction txn, ShardContext context);
}
