using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Hosting;

/// <summary>
/// The running ForgeOne parts of one node: a shard region per kind (hosting shards on storage
/// nodes, a proxy elsewhere) and proxies to the three singletons. <see cref="StartAsync"/> is
/// what the node executable, the tests and the benchmark all call.
/// </summary>
public sealed class ForgeOneCluster
{
    // Singleton proxies are created on first use, not at start. A client (or edge) node never
    // talks to the sealer, key rotation or backup singletons, yet a ClusterSingletonProxy
    // starts its identification-failure timer with no initial delay, so every proxy warns
    // "failed to find an associated singleton" the moment it starts, before its first Identify
    // can be answered. Creating them only when asked for means a node that does not need them
    // runs none and logs nothing.
    private readonly Lazy<IActorRef> _sealer;
    private readonly Lazy<IActorRef> _keyRotation;
    private readonly Lazy<IActorRef> _backup;
    private readonly Lazy<IActorRef> _retentionSweeper;

    private ForgeOneCluster(ActorSystem system, ShardRegions regions, bool storage)
    {
        System = system;
        Regions = regions;
        _sealer = new Lazy<IActorRef>(() => Proxy(system, "audit-sealer"));
        _keyRotation = new Lazy<IActorRef>(() => Proxy(system, "key-rotation"));
        _backup = new Lazy<IActorRef>(() => Proxy(system, "backup"));
        _retentionSweeper = new Lazy<IActorRef>(() => storage ? Proxy(system, "retention-sweeper") : ActorRefs.Nobody);
    }

    /// <summary>The actor system.</summary>
    public ActorSystem System { get; }

    /// <summary>Regions by kind.</summary>
    public ShardRegions Regions { get; }

    /// <summary>Proxy to the <see cref="AuditSealer"/> singleton (started on first use).</summary>
    public IActorRef Sealer => _sealer.Value;

    /// <summary>Proxy to the <see cref="KeyRotationCoordinator"/> singleton (started on first use).</summary>
    public IActorRef KeyRotation => _keyRotation.Value;

    /// <summary>Proxy to the <see cref="BackupCoordinator"/> singleton (started on first use).</summary>
    public IActorRef Backup => _backup.Value;

    /// <summary>The region (or proxy) serving <paramref name="kind"/>.</summary>
    public IActorRef Region(ShardKind kind) => Regions.ByKind[kind];

    /// <summary>
    /// Starts regions and singletons. Order matters: the system region starts first and the
    /// node's shard counts are checked against the ones recorded in the system store before
    /// any other region exists, so a misconfigured node never routes a single message.
    /// </summary>
    /// <param name="system">A cluster actor system built from <see cref="ClusterConfig.Build"/>.</param>
    /// <param name="options">Validated node options.</param>
    /// <param name="host">Shard host (required on storage nodes).</param>
    /// <param name="signer">Audit signing key (required on storage nodes: the sealer may run here).</param>
    /// <param name="startupTimeout">How long to wait for the system shard to answer.</param>
    public static async Task<ForgeOneCluster> StartAsync(ActorSystem system, ForgeOneNodeOptions options, ShardHost? host, AuditSigner? signer, TimeSpan startupTimeout)
    {
        var log = Logging.GetLogger(system, typeof(ForgeOneCluster));
        var storage = options.IsStorage;
        if (storage && (host is null || signer is null))
        {
            throw new ArgumentException("A storage node needs a shard host and an audit signer.");
        }

        var akkaCluster = Akka.Cluster.Cluster.Get(system);
        if (options.SeedNodes.Count == 0)
        {
            // No seeds: a single node that forms its own cluster (works with port 0 too).
            akkaCluster.Join(akkaCluster.SelfAddress);
        }

        var sharding = ClusterSharding.Get(system);
        var self = akkaCluster.SelfAddress.ToString();
        var counts = options.ShardCounts.ToCounts();
        var regions = new Dictionary<ShardKind, IActorRef>();

        async Task<IActorRef> StartRegion(ShardKind kind)
        {
            var extractor = new ShardMessageExtractor(kind, counts.Of(kind));
            if (!storage)
            {
                return await sharding.StartProxyAsync(ShardEntityId.TypeName(kind), ForgeOneNodeOptions.StorageRole, extractor).ConfigureAwait(false);
            }

            var settings = ClusterShardingSettings.Create(system).WithRole(ForgeOneNodeOptions.StorageRole);
            return await sharding.StartAsync(
                ShardEntityId.TypeName(kind),
                entityId => ShardActor.Props(host!, entityId, self),
                settings,
                extractor,
                sharding.DefaultShardAllocationStrategy(settings),
                ShardProtocol.HandOff.Instance).ConfigureAwait(false);
        }

        regions[ShardKind.System] = await StartRegion(ShardKind.System).ConfigureAwait(false);
        var reply = await regions[ShardKind.System]
            .Ask<object>(new SystemProtocol.RecordShardCounts(Protocol.Caller.System, counts.Logs, counts.Events, counts.Blobs), startupTimeout)
            .ConfigureAwait(false);
        switch (reply)
        {
            case SystemProtocol.ShardCountsAccepted accepted:
                log.Info("Shard counts {0} {1}", counts, accepted.Recorded ? "recorded in the system store" : "match the system store");
                break;
            case IFailureReply failed:
                throw new ForgeOneException(failed.Error);
            default:
                throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply from the system shard: {reply}");
        }

        foreach (var kind in new[] { ShardKind.Logs, ShardKind.Events, ShardKind.Blobs })
        {
            regions[kind] = await StartRegion(kind).ConfigureAwait(false);
        }

        // Residency (DESIGN.md §4): one region per zone and data kind, hosted only by storage
        // nodes of that region; everywhere else a proxy. Additive: the zone-less regions above
        // are unchanged.
        var zoned = new Dictionary<(ShardKind, string), IActorRef>();
        foreach (var zone in options.ResidencyZones.Distinct(StringComparer.Ordinal))
        {
            foreach (var kind in new[] { ShardKind.Logs, ShardKind.Events, ShardKind.Blobs })
            {
                var typeName = ZonedTypeName(kind, zone);
                var role = RegionRole(zone);
                var extractor = new ShardMessageExtractor(kind, counts.Of(kind));
                if (storage && string.Equals(options.Region, zone, StringComparison.Ordinal))
                {
                    var zoneHost = host!.ForZone(zone);
                    var settings = ClusterShardingSettings.Create(system).WithRole(role);
                    zoned[(kind, zone)] = await sharding.StartAsync(
                        typeName,
                        entityId => ShardActor.Props(zoneHost, entityId, self),
                        settings,
                        extractor,
                        sharding.DefaultShardAllocationStrategy(settings),
                        ShardProtocol.HandOff.Instance).ConfigureAwait(false);
                }
                else
                {
                    zoned[(kind, zone)] = await sharding.StartProxyAsync(typeName, role, extractor).ConfigureAwait(false);
                }
            }
        }

        var shardRegions = new ShardRegions(regions, counts);
        var time = host?.Time ?? TimeProvider.System;
        if (storage)
        {
            StartSingleton(system, "audit-sealer", AuditSealer.Props(shardRegions, signer!, time, options.Singletons.SealInterval));
            StartSingleton(system, "key-rotation", KeyRotationCoordinator.Props(shardRegions, time, options.Singletons.RotationCheckInterval));
            StartSingleton(system, "backup", BackupCoordinator.Props(time, options.Singletons.BackupInterval));
            // Retention: the default region and every zone's region of each swept kind (logs, events).
            var sweepTargets = RetentionSweeper.SweptKinds
                .SelectMany(kind => zoned.Where(z => z.Key.Item1 == kind)
                    .Select(z => new RetentionSweeper.SweepTarget(z.Value, z.Key.Item2, kind, counts.Of(kind)))
                    .Prepend(new RetentionSweeper.SweepTarget(regions[kind], null, kind, counts.Of(kind))))
                .ToList();
            StartSingleton(system, "retention-sweeper", RetentionSweeper.Props(sweepTargets, options.Compliance.RetentionSweepInterval, options.Compliance.RetentionSweepBatch));
            system.ActorOf(MetricsCollector.Props(regions[ShardKind.System], regions, self, options.Compliance.MetricsInterval, options.Compliance.MetricsRetention), "metrics-collector");
        }

        return new ForgeOneCluster(system, shardRegions, storage)
        {
            ZoneRegions = zoned,
        };
    }

    /// <summary>Regions of the residency zones, by kind and zone.</summary>
    public IReadOnlyDictionary<(ShardKind Kind, string Zone), IActorRef> ZoneRegions { get; private init; } = new Dictionary<(ShardKind, string), IActorRef>();

    /// <summary>Proxy to the <see cref="RetentionSweeper"/> singleton (started on first use; Nobody on non-storage nodes).</summary>
    public IActorRef RetentionSweeperProxy => _retentionSweeper.Value;

    /// <summary>Shard region type name of a zone's shards of <paramref name="kind"/>, e.g. <c>logs@eu</c>.</summary>
    public static string ZonedTypeName(ShardKind kind, string zone) => $"{ShardEntityId.TypeName(kind)}@{zone}";

    /// <summary>Akka role of the storage nodes of region <paramref name="zone"/>.</summary>
    public static string RegionRole(string zone) => $"region-{zone}";

    /// <summary>
    /// The client-facing router: the region serving <paramref name="message"/> (its zone's region
    /// for an <see cref="IZoned"/> message with a zone, else the kind's default region), or a
    /// <see cref="ErrorCodes.ResidencyUnavailable"/> error when the zone is unknown or no storage
    /// node of that region is Up, so nothing is ever sent to (or buffered for) a zone that
    /// cannot take it.
    /// </summary>
    public (IActorRef? Region, ForgeOneError? Error) Route(IShardMessage message)
    {
        var zone = (message as IZoned)?.Zone;
        if (zone is null)
        {
            return (Region(message.Kind), null);
        }

        if (!ZoneRegions.TryGetValue((message.Kind, zone), out var region))
        {
            return (null, new ForgeOneError(ErrorCodes.ResidencyUnavailable,
                $"Residency zone '{zone}' is not served by this cluster (ForgeOne:ResidencyZones = [{string.Join(", ", ZoneRegions.Keys.Select(k => k.Zone).Distinct())}]); the write was not sent."));
        }

        var members = Akka.Cluster.Cluster.Get(System).State.Members.Select(m => (m.Status == Akka.Cluster.MemberStatus.Up, (IReadOnlyCollection<string>)m.Roles));
        return ResidencyRouting.HasUpStorageMember(members, zone)
            ? (region, null)
            : (null, new ForgeOneError(ErrorCodes.ResidencyUnavailable,
                $"No storage node of region '{zone}' is up (role {RegionRole(zone)}); data of zone '{zone}' may be stored only there, so the request was refused rather than placed elsewhere."));
    }

    /// <summary>
    /// Sends <paramref name="message"/> through <see cref="Route"/> and awaits the reply; a
    /// residency refusal comes back as the kind's failure reply without sending anything.
    /// </summary>
    public async Task<object> AskAsync(IShardMessage message, TimeSpan timeout)
    {
        var (region, error) = Route(message);
        if (error is not null)
        {
            return message.Kind switch
            {
                ShardKind.Logs => new LogProtocol.LogFailed(error),
                ShardKind.System => new SystemProtocol.SystemFailed(error),
                ShardKind.Events => new EventProtocol.EventFailed(error),
                _ => new ShardProtocol.ShardFailed(message.Kind, message.ShardNumber ?? -1, error),
            };
        }

        return await region!.Ask<object>(message, timeout).ConfigureAwait(false);
    }

    private static void StartSingleton(ActorSystem system, string name, Props props) =>
        system.ActorOf(
            ClusterSingletonManager.Props(props, PoisonPill.Instance, ClusterSingletonManagerSettings.Create(system).WithRole(ForgeOneNodeOptions.StorageRole)),
            name);

    private static IActorRef Proxy(ActorSystem system, string name) =>
        system.ActorOf(
            ClusterSingletonProxy.Props($"/user/{name}", ClusterSingletonProxySettings.Create(system).WithRole(ForgeOneNodeOptions.StorageRole)),
            $"{name}-proxy");
}
