using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Singletons;

/// <summary>The shard regions (or proxies) of a node, by kind: how singletons reach every shard.</summary>
public sealed record ShardRegions(IReadOnlyDictionary<ShardKind, IActorRef> ByKind, ShardCounts Counts)
{
    /// <summary>Asks every shard of the cluster <paramref name="message"/>(kind, n) and collects the replies (a failure per shard becomes null).</summary>
    public async Task<IReadOnlyList<(ShardKind Kind, int Shard, object? Reply)>> AskAll(Func<ShardKind, int, IShardMessage> message, TimeSpan timeout)
    {
        var asks = Counts.All().Select(async s =>
        {
            try
            {
                var reply = await ByKind[s.Kind].Ask<object>(message(s.Kind, s.Shard), timeout).ConfigureAwait(false);
                return (s.Kind, s.Shard, (object?)reply);
            }
            catch (Exception)
            {
                return (s.Kind, s.Shard, (object?)null);
            }
        });
        return await Task.WhenAll(asks).ConfigureAwait(false);
    }
}
