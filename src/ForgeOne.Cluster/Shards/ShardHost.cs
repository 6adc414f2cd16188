using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Common.Validation;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// What every shard actor on a node shares: where files live, the counts, the tuning, how to
/// open a shard's security state and which handler serves each kind. Immutable; built once per
/// node by the bootstrap.
/// </summary>
public sealed record ShardHost(
    string DataRoot,
    ShardCounts Counts,
    ShardOptions Options,
    IShardSecurityFactory Security,
    IReadOnlyDictionary<ShardKind, IShardHandler> Handlers,
    TimeProvider Time,
    Limits Limits)
{
    /// <summary>Store options for shard <paramref name="n"/> of <paramref name="kind"/>.</summary>
    public ShardStoreOptions StoreOptions(ShardKind kind, int n) =>
        new(DataRoot, kind, n, Counts.Of(kind)) { NoSync = Options.NoSync, Time = Time };
}
