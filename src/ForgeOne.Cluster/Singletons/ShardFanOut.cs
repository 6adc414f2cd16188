using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// The shard regions (or proxies) of a node, by kind, and those of every residency zone: how
/// singletons reach every shard. A zone's shards are shards like the others: the sealer seals
/// them and the key rotation rotates them.
/// </summary>
public sealed record ShardRegions(IReadOnlyDictionary<ShardKind, IActorRef> ByKind, ShardCounts Counts)
{
    /// <summary>Regions of the residency zones' shards, by kind and zone.</summary>
    public IReadOnlyDictionary<(ShardKind Kind, string Zone), IActorRef> Zones { get; init; } = new Dictionary<(ShardKind, string), IActorRef>();

    /// <summary>Every shard of the cluster: default region first, then each zone's (kind, number, zone; zone null for the default region).</summary>
    public IEnumerable<(ShardKind Kind, int Shard, string? Zone, IActorRef Region)> All() =>
        Counts.All().Select(s => (s.Kind, s.Shard, (string?)null, ByKind[s.Kind]))
            .Concat(Zones.OrderBy(z => z.Key.Zone, StringComparer.Ordinal).ThenBy(z => z.Key.Kind)
                .SelectMany(z => Enumerable.Range(0, Counts.Of(z.Key.Kind)).Select(n => (z.Key.Kind, n, (string?)z.Key.Zone, z.Value))));

    /// <summary>Asks every shard of the cluster, zones included, <paramref name="message"/>(kind, n) and collects the replies (a failure per shard becomes null).</summary>
    public async Task<IReadOnlyList<(ShardKind Kind, int Shard, object? Reply)>> AskAll(Func<ShardKind, int, IShardMessage> message, TimeSpan timeout) =>
        [.. (await AskEvery((kind, n, _) => message(kind, n), timeout).ConfigureAwait(false)).Select(r => (r.Kind, r.Shard, r.Reply))];

    /// <summary>Asks every shard, zones included, <paramref name="message"/>(kind, n, zone); each reply names its shard's chain id.</summary>
    public async Task<IReadOnlyList<ShardReply>> AskEvery(Func<ShardKind, int, string?, IShardMessage> message, TimeSpan timeout)
    {
        var asks = All().Select(async s =>
        {
            try
            {
                var reply = await s.Region.Ask<object>(message(s.Kind, s.Shard, s.Zone), timeout).ConfigureAwait(false);
                return new ShardReply(s.Kind, s.Shard, s.Zone, reply);
            }
            catch (Exception)
            {
                return new ShardReply(s.Kind, s.Shard, s.Zone, null);
            }
        });
        return await Task.WhenAll(asks).ConfigureAwait(false);
    }

    /// <summary>The region serving the shard of <paramref name="chainId"/> (<c>logs-0003</c>, <c>logs-0003@eu</c>), or null.</summary>
    public (ShardKind Kind, int Shard, string? Zone, IActorRef Region)? Find(string chainId) =>
        All().Cast<(ShardKind Kind, int Shard, string? Zone, IActorRef Region)?>()
            .FirstOrDefault(s => ShardSecurityFactory.ChainIdOf(s!.Value.Kind, s.Value.Shard, s.Value.Zone) == chainId);
}

/// <summary>One shard's reply to a fan-out.</summary>
/// <param name="Kind">The shard kind.</param>
/// <param name="Shard">The shard number.</param>
/// <param name="Zone">The residency zone, or null (default region).</param>
/// <param name="Reply">The reply, or null when none came in time.</param>
public sealed record ShardReply(ShardKind Kind, int Shard, string? Zone, object? Reply)
{
    /// <summary>The shard's audit chain id.</summary>
    public string ChainId => ShardSecurityFactory.ChainIdOf(Kind, Shard, Zone);
}
