using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Pattern;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;

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
    /// <param name="backup">What the backup coordinator needs on a storage node (null: it refuses every backup).</param>
    /// <param name="security">
    /// The node's security state (required on storage nodes, and the one their shard host's
    /// security factory was built with): its singletons verify and authorize with it, and its own
    /// identity proves the node's start-up requests.
    /// </param>
    /// <param name="tokens">
    /// Where a member without the cluster authentication key (an actor client) gets the token of
    /// its start-up requests; defaults to the node's own identity.
    /// </param>
    public static async Task<ForgeOneCluster> StartAsync(ActorSystem system, ForgeOneNodeOptions options, ShardHost? host, AuditSigner? signer, TimeSpan startupTimeout, NodeSecurity? security = null, IPrincipalTokenSource? tokens = null, BackupHosting? backup = null)
    {
        var log = Logging.GetLogger(system, typeof(ForgeOneCluster));
        var storage = options.IsStorage;
        if (storage && (host is null || signer is null || security is null))
        {
            throw new ArgumentException("A storage node needs a shard host, an audit signer and its security state.");
        }

        tokens ??= security?.Identity ?? throw new ArgumentException("A member without the cluster authentication key needs a token source.", nameof(tokens));

        var akkaCluster = Akka.Cluster.Cluster.Get(system);

        // Before anything that acts on the membership view: a member the cluster removed while
        // it was frozen or cut off must leave, not act on that view (see the watcher).
        system.ActorOf(QuarantineWatcher.Props(), "quarantine-watcher");
        if (options.SeedNodes.Count == 0)
        {
            // No seeds: a single node that forms its own cluster (works with port 0 too).
            akkaCluster.Join(akkaCluster.SelfAddress);
        }

        if (host?.Claim is { } claim)
        {
            await AwaitDataRootAsync(akkaCluster, claim, startupTimeout).ConfigureAwait(false);
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
        if (storage)
        {
            // Before any shard opens here: what their open checks find must reach an operator.
            system.ActorOf(IntegrityReporter.Props(regions[ShardKind.System], self, security!.Identity), "integrity-reporter");
        }

        // A storage node records the counts on first start (system:write, as the node); any
        // other member only checks them.
        IShardMessage countsRequest = storage
            ? new SystemProtocol.RecordShardCounts(tokens.Current, counts.Logs, counts.Events, counts.Blobs)
            : new SystemProtocol.CheckShardCounts(tokens.Current, counts.Logs, counts.Events, counts.Blobs);
        var reply = await regions[ShardKind.System].Ask<object>(countsRequest, startupTimeout).ConfigureAwait(false);
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

        // The residency directory: seeded from the system store before this node routes
        // anything, then kept current by replication (ResidencyReplicator).
        var residency = new ResidencyCache();
        var directory = system.ActorOf(ResidencyReplicator.Props(residency, ResidencyWriteTimeout), "residency-directory");
        switch (await regions[ShardKind.System].Ask<object>(new SystemProtocol.GetResidencyDirectory(tokens.Current), startupTimeout).ConfigureAwait(false))
        {
            case SystemProtocol.CurrentResidencyDirectory current:
                await directory.Ask<ResidencyReplicator.Published>(new ResidencyReplicator.Publish(current.Entries, AllNodes: false), startupTimeout).ConfigureAwait(false);
                log.Info("Residency directory version {0} loaded ({1} entries)", current.Version, current.Entries.Length);
                break;
            case IFailureReply failed:
                throw new ForgeOneException(failed.Error);
            case var other:
                throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply from the system shard: {other}");
        }

        // Revoked credentials: seeded from the API-key store (every revocation a live token may
        // predate), then kept current by replication (RevocationReplicator). Only members that
        // verify tokens (those holding the authentication key) need the list.
        IActorRef revocations = ActorRefs.Nobody;
        if (security is not null)
        {
            revocations = system.ActorOf(RevocationReplicator.Props(security.Revoked, ResidencyWriteTimeout), "revoked-credentials");
            var since = (host?.Time ?? TimeProvider.System).GetUtcNow() - TokenIssuer.MaxLifetime - TokenVerifier.ClockSkew;
            switch (await regions[ShardKind.System].Ask<object>(new SystemProtocol.GetRevokedApiKeys(tokens.Current, since), startupTimeout).ConfigureAwait(false))
            {
                case SystemProtocol.RevokedApiKeys revoked:
                    await revocations.Ask<RevocationReplicator.Published>(
                        new RevocationReplicator.Publish([.. revoked.Keys.Select(k => (ApiKeyAuthenticator.CredentialOf(k.Id), k.RevokedAt!.Value))], AllNodes: false), startupTimeout).ConfigureAwait(false);
                    break;
                case IFailureReply failed:
                    throw new ForgeOneException(failed.Error);
                case var other:
                    throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply from the system shard: {other}");
            }
        }

        foreach (var kind in new[] { ShardKind.Logs, ShardKind.Events, ShardKind.Blobs })
        {
            regions[kind] = await StartRegion(kind).ConfigureAwait(false);
        }

        // Residency: one region per zone and data kind, hosted only by storage
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

        var shardRegions = new ShardRegions(regions, counts) { Zones = zoned };
        ForgeOneCluster? started = null;
        var time = host?.Time ?? TimeProvider.System;
        if (storage)
        {
            var node = security!;
            SingletonGate Gate(string name) => new(node, regions[ShardKind.System], name);
            ISealStore[] sealStores = host!.Seals is { } seals ? [seals] : [];
            StartSingleton(system, "audit-sealer", AuditSealer.Props(shardRegions, Gate("audit-sealer"), signer!, sealStores, time, options.Singletons.SealInterval));
            StartSingleton(system, "key-rotation", KeyRotationCoordinator.Props(shardRegions, Gate("key-rotation"), time, options.Singletons.RotationCheckInterval));
            var services = (backup ?? BackupHosting.Disabled(options.KeysDirectoryFull)).Services(options, shardRegions, zoned, signer!, time, node);
            if (services.Incarnations is NoIncarnationRecords)
            {
                // A restore's rewind is sealed by this cluster's sealer (resolved when a restore runs).
                services = services with { Incarnations = new SealedRestoreIncarnations(() => started!.Sealer, node.Identity) };
            }

            StartSingleton(system, "backup", BackupCoordinator.Props(backup is null ? services with { Targets = [] } : services));
            // Retention: the default region and every zone's region of each swept kind (logs, events).
            var sweepTargets = RetentionSweeper.SweptKinds
                .SelectMany(kind => zoned.Where(z => z.Key.Item1 == kind)
                    .Select(z => new RetentionSweeper.SweepTarget(z.Value, z.Key.Item2, kind, counts.Of(kind)))
                    .Prepend(new RetentionSweeper.SweepTarget(regions[kind], null, kind, counts.Of(kind))))
                .ToList();
            StartSingleton(system, "retention-sweeper", RetentionSweeper.Props(sweepTargets, Gate("retention-sweeper"), options.Compliance.RetentionSweepInterval, options.Compliance.RetentionSweepBatch));
            system.ActorOf(MetricsCollector.Props(regions[ShardKind.System], regions, self, node.Identity, options.Compliance.MetricsInterval, options.Compliance.MetricsRetention), "metrics-collector");
        }

        started = new ForgeOneCluster(system, shardRegions, storage)
        {
            ZoneRegions = zoned,
            Residency = residency,
            ResidencyDirectory = directory,
            Security = security,
            Tokens = tokens,
            Revocations = revocations,
            ApiKeys = security is null ? null : new ApiKeyAuthenticator((message, ct) => regions[ShardKind.System].Ask<object>(message, ApiKeyLookupTimeout, ct), security, time),
        };
        return started;
    }

    /// <summary>This node's security state (null on a member without the cluster authentication key, such as an actor client).</summary>
    public NodeSecurity? Security { get; private init; }

    /// <summary>The node-local issuer's API-key check (null on a member without the cluster authentication key).</summary>
    public ApiKeyAuthenticator? ApiKeys { get; private init; }

    /// <summary>The <see cref="RevocationReplicator"/> of this node (Nobody on a member that verifies no tokens).</summary>
    public IActorRef Revocations { get; private init; } = ActorRefs.Nobody;

    // How long a key check waits for the system shard.
    private static readonly TimeSpan ApiKeyLookupTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Revokes an API key in the store (audited) and, once stored, publishes the revocation to
    /// every node: refused here at once, elsewhere once replicated (within the write timeout
    /// for every reachable node; the token lifetime bounds a node that hears of it late). Reply:
    /// <see cref="SystemProtocol.ApiKeyRevoked"/> or <see cref="SystemProtocol.SystemFailed"/>, and
    /// whether every reachable node acknowledged the revocation.
    /// </summary>
    public async Task<(object Reply, bool Replicated)> RevokeApiKeyAsync(SystemProtocol.RevokeApiKey request, TimeSpan timeout)
    {
        var reply = await Region(ShardKind.System).Ask<object>(request, timeout).ConfigureAwait(false);
        if (reply is not SystemProtocol.ApiKeyRevoked { Key.RevokedAt: { } at } revoked || Revocations.IsNobody())
        {
            return (reply, false);
        }

        // Published again for an already revoked key too: a node that missed it learns it now.
        var wait = timeout > ResidencyWriteTimeout + TimeSpan.FromSeconds(2) ? timeout : ResidencyWriteTimeout + TimeSpan.FromSeconds(2);
        var published = await Revocations.Ask<RevocationReplicator.Published>(
            new RevocationReplicator.Publish([(ApiKeyAuthenticator.CredentialOf(revoked.Key.Id), at)], AllNodes: true), wait).ConfigureAwait(false);
        return (reply, published.Acknowledged);
    }

    /// <summary>Where this member's own requests get their token (the node's identity, or an actor client's credential).</summary>
    public IPrincipalTokenSource Tokens { get; private init; } = null!;

    /// <summary>
    /// Waits until this node is up and every other live holder of the data root is a member of
    /// its cluster; throws <see cref="ErrorCodes.DataRootInUse"/> as soon as a holder can never
    /// join (another cluster), or at <paramref name="timeout"/> for one that did not. No shard
    /// opens before this returns, so a node of another cluster never fences this one's owners.
    /// </summary>
    private static async Task AwaitDataRootAsync(Akka.Cluster.Cluster cluster, DataRootClaim claim, TimeSpan timeout)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await up.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            while (true)
            {
                var members = cluster.State.Members.Select(m => (m.Address.ToString(), (long)m.UniqueAddress.Uid)).ToHashSet();
                switch (claim.Check(members))
                {
                    case null:
                        return;
                    case { Final: true } refused:
                        throw new ForgeOneException(refused.Error);
                }

                // A holder that shares this node's seeds is probably a node of this cluster still
                // joining, or one that just died (its lock goes with it): look again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var members = cluster.State.Members.Select(m => (m.Address.ToString(), (long)m.UniqueAddress.Uid)).ToHashSet();
            throw claim.Check(members) is { } refused
                ? new ForgeOneException(refused.Error)
                : new ForgeOneException(ErrorCodes.Unavailable, $"This node did not join its cluster within {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Regions of the residency zones, by kind and zone.</summary>
    public IReadOnlyDictionary<(ShardKind Kind, string Zone), IActorRef> ZoneRegions { get; private init; } = new Dictionary<(ShardKind, string), IActorRef>();

    /// <summary>Proxy to the <see cref="RetentionSweeper"/> singleton (started on first use; Nobody on non-storage nodes).</summary>
    public IActorRef RetentionSweeperProxy => _retentionSweeper.Value;

    // How long a directory change waits for every node's replica to acknowledge it.
    private static readonly TimeSpan ResidencyWriteTimeout = TimeSpan.FromSeconds(3);

    /// <summary>This node's view of the residency directory (what <see cref="Route"/> resolves zones from).</summary>
    public ResidencyCache Residency { get; private init; } = new();

    /// <summary>The <see cref="ResidencyReplicator"/> of this node.</summary>
    public IActorRef ResidencyDirectory { get; private init; } = ActorRefs.Nobody;

    /// <summary>Shard region type name of a zone's shards of <paramref name="kind"/>, e.g. <c>logs@eu</c>.</summary>
    public static string ZonedTypeName(ShardKind kind, string zone) => $"{ShardEntityId.TypeName(kind)}@{zone}";

    /// <summary>Akka role of the storage nodes of region <paramref name="zone"/>.</summary>
    public static string RegionRole(string zone) => $"region-{zone}";

    /// <summary>
    /// The client-facing router: the region serving <paramref name="message"/>. For an
    /// <see cref="IZoned"/> message the zone comes from the residency directory (the topic's
    /// entry, else the caller's tenant's), or from the zone the message declares when the
    /// directory has none or the message names no topic (a get by id); a declared zone that contradicts the directory is refused
    /// (<see cref="ErrorCodes.ResidencyMismatch"/>). No zone: the kind's default region. A zone
    /// that is unknown or has no Up storage node of its region is refused
    /// (<see cref="ErrorCodes.ResidencyUnavailable"/>), so nothing is ever sent to (or buffered
    /// for) a zone that cannot take it.
    /// </summary>
    public (IActorRef? Region, ForgeOneError? Error) Route(IShardMessage message, Principal? principal = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (RequestPreflight.CheckRoute(message, Regions.Counts) is { } unroutable)
        {
            return (null, unroutable);
        }

        if (message is not IZoned zoned)
        {
            return (Region(message.Kind), null);
        }

        var declared = zoned.Zone;
        if (message is EventProtocol.CreateTopic { Settings.ResidencyZone: { } settingsZone })
        {
            if (declared is not null && !string.Equals(declared, settingsZone, StringComparison.Ordinal))
            {
                return (null, new ForgeOneError(ErrorCodes.ResidencyMismatch,
                    $"Topic '{message.RoutingKey}' is created with residency zone '{settingsZone}' but the request is addressed to zone '{declared}'; it was refused."));
            }

            declared = settingsZone;
        }

        var topic = message.ShardNumber is null ? message.RoutingKey : null;
        return ResolveRegion(message.Kind, topic, Residency.IsEmpty ? null : principal?.Tenant ?? TenantOf(message), declared);
    }

    /// <summary>
    /// The region of <paramref name="kind"/> serving <paramref name="topic"/> for a principal of
    /// <paramref name="tenant"/> (see <see cref="Route"/>); for callers that hold a region
    /// rather than send one message (an events subscription).
    /// </summary>
    public (IActorRef? Region, ForgeOneError? Error) ResolveRegion(ShardKind kind, string? topic, string? tenant, string? declaredZone)
    {
        var scope = ResidencyResolver.TopicScope(kind);
        var topicZone = topic is not null && scope is { } s ? Residency.ZoneOf(s, topic) : null;
        var tenantZone = tenant is not null && scope is not null ? Residency.ZoneOf(SystemProtocol.ResidencyScope.Tenant, tenant) : null;
        var (zone, source, mismatch) = ResidencyResolver.Resolve(declaredZone, topic, topicZone, tenant, tenantZone);
        if (mismatch is not null)
        {
            return (null, mismatch);
        }

        if (zone is null)
        {
            return (Region(kind), null);
        }

        if (!ZoneRegions.TryGetValue((kind, zone), out var region))
        {
            return (null, new ForgeOneError(ErrorCodes.ResidencyUnavailable,
                $"Residency zone '{zone}' ({source}) is not served by this cluster (ForgeOne:ResidencyZones = [{string.Join(", ", ZoneRegions.Keys.Select(k => k.Zone).Distinct())}]); the request was not sent."));
        }

        var members = Akka.Cluster.Cluster.Get(System).State.Members.Select(m => (m.Status == Akka.Cluster.MemberStatus.Up, (IReadOnlyCollection<string>)m.Roles));
        return ResidencyRouting.HasUpStorageMember(members, zone)
            ? (region, null)
            : (null, new ForgeOneError(ErrorCodes.ResidencyUnavailable,
                $"No storage node of region '{zone}' is up (role {RegionRole(zone)}; zone from {source}); data of zone '{zone}' may be stored only there, so the request was refused rather than placed elsewhere."));
    }

    /// <summary>
    /// Sends <paramref name="message"/> through <see cref="Route"/> and awaits the reply; a
    /// residency refusal comes back as the kind's failure reply without sending anything.
    /// A <see cref="SystemProtocol.SetResidency"/> goes through <see cref="SetResidencyAsync"/>;
    /// an events topic created with a <see cref="EventProtocol.TopicSettings.ResidencyZone"/> is
    /// registered in the residency directory once created.
    /// </summary>
    public async Task<object> AskAsync(IShardMessage message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is SystemProtocol.SetResidency set)
        {
            return await SetResidencyAsync(set, timeout).ConfigureAwait(false);
        }

        var (region, error) = Route(message);
        error ??= RequestPreflight.CheckSize(message, m => System.Serialization.FindSerializerFor(m).ToBinary(m).Length);
        if (error is not null)
        {
            return FailureOf(message, error);
        }

        var reply = await region!.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        if (message is EventProtocol.CreateTopic { Settings.ResidencyZone: { } zone } create && reply is EventProtocol.TopicCreated
            && !string.Equals(Residency.ZoneOf(SystemProtocol.ResidencyScope.EventTopic, create.Topic), zone, StringComparison.Ordinal))
        {
            // The topic's zone was an events:admin decision, audited with the topic; the
            // directory entry follows from it and is recorded by the node, naming who created it.
            // Registered with the creator's own token: the router holds no authority of its own.
            var registered = await SetResidencyAsync(
                new SystemProtocol.SetResidency(create.Token, SystemProtocol.ResidencyScope.EventTopic, create.Topic, zone, "implied by the events topic's creation"), timeout).ConfigureAwait(false);
            if (registered is IFailureReply failed)
            {
                return new EventProtocol.EventFailed(new ForgeOneError(failed.Error.Code,
                    $"Topic '{create.Topic}' was created in zone '{zone}' but could not be registered in the residency directory ({failed.Error.Message}); writes that do not name zone '{zone}' will not find it until it is registered (SetResidency)."));
            }
        }

        return reply;
    }

    /// <summary>
    /// Records a residency directory change in the system store (audited; admins only) and,
    /// once stored, publishes it to every node's router. Reply: <see cref="SystemProtocol.ResidencySet"/>
    /// or <see cref="SystemProtocol.SystemFailed"/>.
    /// </summary>
    public async Task<object> SetResidencyAsync(SystemProtocol.SetResidency request, TimeSpan timeout)
    {
        var reply = await Region(ShardKind.System).Ask<object>(request, timeout).ConfigureAwait(false);
        if (reply is SystemProtocol.ResidencySet set)
        {
            // Stored is what counts: a node that does not acknowledge within the write timeout
            // still gets the change by gossip (Published(false)), so this waits only so long.
            var wait = timeout > ResidencyWriteTimeout + TimeSpan.FromSeconds(2) ? timeout : ResidencyWriteTimeout + TimeSpan.FromSeconds(2);
            await ResidencyDirectory.Ask<ResidencyReplicator.Published>(new ResidencyReplicator.Publish([set.Entry], AllNodes: true), wait).ConfigureAwait(false);
        }

        return reply;
    }

    // The tenant a request's token names, read without verifying it: routing only picks which
    // zone's shards receive the request, and those shards verify the token before anything else.
    private static string? TenantOf(IShardMessage message) =>
        message is IAuthenticated { Token.Value: { } bytes } && PrincipalTokenCodec.TryDecode(bytes, out var claims, out _) ? claims!.Principal.Tenant : null;

    /// <summary>The failure reply a message of <paramref name="message"/>'s kind gets (<c>LogFailed</c>, <c>EventFailed</c>, ...).</summary>
    public static object FailureOf(IShardMessage message, ForgeOneError error) =>
        message.Kind switch
        {
            ShardKind.Logs => new LogProtocol.LogFailed(error),
            ShardKind.System => new SystemProtocol.SystemFailed(error),
            ShardKind.Events => new EventProtocol.EventFailed(error),
            ShardKind.Blobs => new BlobProtocol.BlobFailed(error),
            _ => new ShardProtocol.ShardFailed(message.Kind, message.ShardNumber ?? -1, error),
        };

    // A persistent singleton stops itself when its journal refuses a write (a full disk, a
    // locked SQLite file): Akka.Persistence's answer to a failed persist is Stop, and
    // ClusterSingletonManager does not start a singleton that ended on its own again. The
    // back-off supervisor does, after 1-10 s, and the new incarnation recovers from the journal,
    // so the sealer continues at the next seal number once the disk has room again.
    private static readonly TimeSpan SingletonMinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SingletonMaxBackoff = TimeSpan.FromSeconds(10);

    private static void StartSingleton(ActorSystem system, string name, Props props) =>
        system.ActorOf(
            ClusterSingletonManager.Props(
                BackoffSupervisor.Props(Backoff.OnStop(props, name, SingletonMinBackoff, SingletonMaxBackoff, 0.2, maxNrOfRetries: -1)),
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(ForgeOneNodeOptions.StorageRole)),
            name);

    private static IActorRef Proxy(ActorSystem system, string name) =>
        system.ActorOf(
            ClusterSingletonProxy.Props($"/user/{name}", ClusterSingletonProxySettings.Create(system).WithRole(ForgeOneNodeOptions.StorageRole)),
            $"{name}-proxy");
}
