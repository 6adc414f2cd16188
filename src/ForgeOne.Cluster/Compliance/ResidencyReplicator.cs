using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Compliance;

/// <summary>
/// Keeps this node's <see cref="ResidencyCache"/> in step with the cluster's residency directory.
/// </summary>
/// <remarks>
/// Why Akka Distributed Data (an <see cref="LWWDictionary{TKey,TValue}"/> under one key): the
/// router must answer from memory on every node (a round trip to the system shard per message
/// would put one shard in every write's path), and a change must reach every node promptly
/// without a coordinator. The replicator is already running for sharding's ddata mode; a
/// change is written to all reachable replicas at once (<see cref="WriteAll"/>) and gossip
/// completes it for nodes that were unreachable, and subscribers are told within the notify
/// interval. The register clock is the directory version assigned by the system shard, so
/// "last writer wins" means "newest directory version wins" on every node, whatever the wall
/// clocks say. The system store stays the source of truth (audited, versioned, durable); the
/// replicated map is a cache that every node re-seeds from the store when it starts, since
/// ForgeOne runs ddata without durable keys.
/// Values are <c>"{version}|{zone}"</c>, an empty zone marking a cleared entry.
/// </remarks>
public sealed class ResidencyReplicator : ReceiveActor
{
    /// <summary>The replicated key.</summary>
    public static readonly LWWDictionaryKey<string, string> Key = new("forgeone-residency-directory");

    private readonly ResidencyCache _cache;
    private readonly TimeSpan _writeTimeout;
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly UniqueAddress _self = Akka.Cluster.Cluster.Get(Context.System).SelfUniqueAddress;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Creates the actor feeding <paramref name="cache"/>.</summary>
    public ResidencyReplicator(ResidencyCache cache, TimeSpan writeTimeout)
    {
        _cache = cache;
        _writeTimeout = writeTimeout;
        Receive<Publish>(OnPublish);
        Receive<Changed>(changed => _cache.Apply(changed.Get(Key).Select(kv => Decode(kv.Key, kv.Value))));
        Receive<UpdateSuccess>(success => ((IActorRef)success.Request!).Tell(new Published(true)));
        Receive<IUpdateFailure>(failure =>
        {
            // The local replica has the change and gossip spreads it; only the wait for every
            // replica's acknowledgement failed (a node unreachable, say).
            _log.Info("Residency directory change not yet acknowledged by every node ({0}); gossip completes it", failure.GetType().Name);
            ((IActorRef)failure.Request!).Tell(new Published(false));
        });
    }

    /// <summary>Props.</summary>
    public static Props Props(ResidencyCache cache, TimeSpan writeTimeout) =>
        Akka.Actor.Props.Create(() => new ResidencyReplicator(cache, writeTimeout));

    /// <inheritdoc />
    protected override void PreStart() => _replicator.Tell(Dsl.Subscribe(Key, Self));

    private void OnPublish(Publish publish)
    {
        // Seen by this node's router at once (read your writes), by the others via the replicator.
        _cache.Apply(publish.Entries);
        IWriteConsistency consistency = publish.AllNodes ? new WriteAll(_writeTimeout) : WriteLocal.Instance;
        var entries = publish.Entries;
        var self = _self;
        _replicator.Tell(Dsl.Update(Key, LWWDictionary<string, string>.Empty, consistency, Sender, map =>
        {
            foreach (var e in entries)
            {
                var key = ResidencyResolver.Key(e.Scope, e.Name);
                if (map.TryGetValue(key, out var known) && Decode(key, known).Version >= e.Version)
                {
                    continue;
                }

                var value = Encode(e);
                map = map.SetItem(self, key, value, (_, v) => Decode(key, v).Version);
            }

            return map;
        }));
    }

    private static string Encode(ResidencyEntry e) => $"{e.Version.ToString(CultureInfo.InvariantCulture)}|{e.Zone}";

    private static (string Key, long Version, string? Zone) Decode(string key, string value)
    {
        var bar = value.IndexOf('|', StringComparison.Ordinal);
        var version = long.Parse(value.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture);
        var zone = value[(bar + 1)..];
        return (key, version, zone.Length == 0 ? null : zone);
    }

    /// <summary>
    /// Applies <paramref name="Entries"/> here and replicates them: to every reachable node at once
    /// when <paramref name="AllNodes"/>, else to this node's replica (gossip spreads it). Reply:
    /// <see cref="Published"/>.
    /// </summary>
    public sealed record Publish(ResidencyEntry[] Entries, bool AllNodes);

    /// <summary>Done; <paramref name="Acknowledged"/> when every node's replica confirmed.</summary>
    public sealed record Published(bool Acknowledged);
}
