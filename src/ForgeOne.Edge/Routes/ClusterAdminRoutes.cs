using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Auth;
using ForgeOne.Edge.Http;
using ForgeOne.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// What an operator (and <c>forgeone</c>) needs beyond reading the cluster's state: membership
/// changes (leave, down the unreachable, join), the live member event stream, one region's shard
/// and entity distribution naming every node that did not answer, the audit public key, and the
/// rotation of one shard's data key. Membership is this node's Akka cluster, so the edge checks
/// the permission itself (no shard sees these), with the node's policy.
/// </summary>
internal static class ClusterAdminRoutes
{
    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var members = v1.MapGroup("/cluster").WithTags("Cluster");
        members.MapGet("/events", StreamEventsAsync)
            .WithName("StreamClusterEvents")
            .WithSummary("Server-Sent Events: every membership, reachability and leader change this node observes from now on (system:read).")
            .Produces<ClusterEventView>(StatusCodes.Status200OK, EventRoutes.EventStream).Problems();

        members.MapPost("/leave", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var input = await ReadMembershipAsync(http, options).ConfigureAwait(false);
            authorization.Require(http.Principal().Principal, Permissions.SystemWrite, "system");
            var akka = Akka.Cluster.Cluster.Get(cluster.Require().System);
            var address = input.Address is null ? akka.SelfAddress : FindMember(akka, input.Address).Address;
            akka.Leave(address);
            return Results.Json(new MembershipChange("leave", [address.ToString()]), ApiJsonContext.Default.MembershipChange, statusCode: StatusCodes.Status202Accepted);
        })
            .WithName("LeaveCluster").WithSummary("Asks a member (default: this edge node) to leave the cluster gracefully; its shards hand off first (system:write).")
            .JsonBody<MembershipInput>(options.MaxJsonBodyBytes)
            .Produces<MembershipChange>(StatusCodes.Status202Accepted).Problems(404);

        members.MapPost("/down-unreachable", (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.SystemWrite, "system");
            var akka = Akka.Cluster.Cluster.Get(cluster.Require().System);
            var unreachable = akka.State.Unreachable.Select(m => m.Address).Order(Member.AddressOrdering).ToArray();
            foreach (var address in unreachable)
            {
                akka.Down(address);
            }

            return Results.Json(new MembershipChange("down", [.. unreachable.Select(a => a.ToString())]), ApiJsonContext.Default.MembershipChange, statusCode: StatusCodes.Status202Accepted);
        })
            .WithName("DownUnreachable").WithSummary("Marks every member this node sees as unreachable as down, so the cluster can move on without it (system:write).")
            .Produces<MembershipChange>(StatusCodes.Status202Accepted).Problems();

        members.MapPost("/join", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var input = await ReadMembershipAsync(http, options).ConfigureAwait(false);
            authorization.Require(http.Principal().Principal, Permissions.SystemWrite, "system");
            var akka = Akka.Cluster.Cluster.Get(cluster.Require().System);
            var address = ParseAddress(input.Address ?? throw new ForgeOneException(ErrorCodes.InvalidArgument, "'address' is required: the member to join through."), akka);
            akka.Join(address);
            return Results.Json(new MembershipChange("join", [address.ToString()]), ApiJsonContext.Default.MembershipChange, statusCode: StatusCodes.Status202Accepted);
        })
            .WithName("JoinCluster").WithSummary("Makes this edge node join the cluster through the given member (a no-op when it already belongs to it) (system:write).")
            .JsonBody<MembershipInput>(options.MaxJsonBodyBytes)
            .Produces<MembershipChange>(StatusCodes.Status202Accepted).Problems();

        members.MapGet("/sharding/{region}/stats", async (string region, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.SystemRead, "system");
            return Results.Json(await RegionStatsAsync(cluster, region).ConfigureAwait(false), ApiJsonContext.Default.RegionStatsView);
        })
            .WithName("GetRegionStats").WithSummary("Shards and entities per node of one shard region (logs, events, blobs, system, or kind@zone), naming every node that did not answer in time (system:read).")
            .Produces<RegionStatsView>().Problems(404);

        var audit = v1.MapGroup("/audit").WithTags("Audit");
        audit.MapGet("/public-key", async (HttpContext http, EdgeCluster cluster) =>
        {
            // Public by nature (what an auditor verifies seals and exports with): any authenticated principal.
            var key = await cluster.AskActorAsync<SealerProtocol.AuditPublicKey>(cluster.Require().Sealer, new SealerProtocol.GetAuditPublicKey(http.Principal().Token), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new AuditPublicKeyView(key.Pem, key.Fingerprint), ApiJsonContext.Default.AuditPublicKeyView);
        })
            .WithName("GetAuditPublicKey").WithSummary("The audit public key (PEM) seals and exported audit chains verify under.")
            .Produces<AuditPublicKeyView>().Problems();

        audit.MapGet("/chains/{shard}", async (string shard, long? after, int? limit, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var (kind, n) = ParseShard(cluster.Require(), shard);
            if (after is < 0)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"after={after} must be 0 or more.");
            }

            var take = LogRoutes.Limit(limit, ChainPageMax, ChainPageMax);
            var page = await cluster.AskAsync<ShardProtocol.AuditPage>(new ShardProtocol.ReadAudit(http.Principal().Token, kind, n, (after ?? 0) + 1, take), http.RequestAborted).ConfigureAwait(false);
            var records = page.Records.Select(encoded =>
            {
                var r = AuditRecordCodec.Decode(encoded);
                return new AuditRecordView(r.Seq, r.Time, r.Principal, r.Action, r.Resource, r.Outcome.ToString(),
                    Convert.ToHexStringLower(r.DetailHash), Convert.ToHexStringLower(r.PrevHash), Convert.ToHexStringLower(r.Hash), Convert.ToBase64String(encoded));
            }).ToArray();
            long? next = records.Length == take && records[^1].Seq < page.Head ? records[^1].Seq : null;
            return Results.Json(new AuditChainPage(ShardEntityId.Of(kind, n), page.Chain, records, page.Head, next), ApiJsonContext.Default.AuditChainPage);
        })
            .WithName("GetAuditChain").WithSummary("A page of one shard's committed audit chain, oldest first, after seq `after` (audit:export): what `forgeone audit export` writes for offline verification.")
            .Produces<AuditChainPage>().Problems(404);

        audit.MapGet("/seals/encoded", async (int? limit, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var history = await SystemRoutes.SealsAsync(cluster, http.Principal().Token, http.RequestAborted).ConfigureAwait(false);
            var take = LogRoutes.Limit(limit, 10_000, 10_000);
            var skip = Math.Max(0, history.Seals.Length - take);
            var seals = history.Seals.Skip(skip).Zip(history.Numbers.Skip(skip), (s, n) => new EncodedSealView(n, Convert.ToBase64String(s))).ToArray();
            return Results.Json(new EncodedSealList(seals, history.Numbers.Length), ApiJsonContext.Default.EncodedSealList);
        })
            .WithName("GetEncodedSeals").WithSummary("The newest seals as the sealer signed them (base64), oldest first (audit:export): what an audit export carries for offline verification.")
            .Produces<EncodedSealList>().Problems();

        var keys = v1.MapGroup("/system/keys").WithTags("Keys");
        keys.MapPost("/{shard}/rotate", async (string shard, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.RotateKeysInput).ConfigureAwait(false);
            authorization.Require(http.Principal().Principal, Permissions.KeysAdmin, "keys");
            var (kind, n) = ParseShard(cluster.Require(), shard);
            // The shard audits the rotation in its own chain.
            var done = await cluster.AskAsync<ShardProtocol.KeyRotated>(new ShardProtocol.RotateKey(http.Principal().Token, kind, n, input.Reason ?? "on demand over HTTP", OnlyIfDue: false), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new ShardKeyRotationView(ShardEntityId.Of(done.Kind, done.Shard), done.Rotated, done.ActiveVersion, done.Events), ApiJsonContext.Default.ShardKeyRotationView);
        })
            .WithName("RotateShardKey").WithSummary("Rotates one shard's data key now (keys:admin, checked and audited by the shard); the shard is kind-number, e.g. logs-3.")
            .JsonBody<RotateKeysInput>(options.MaxJsonBodyBytes)
            .Produces<ShardKeyRotationView>().Problems(404);
    }

    /// <summary>Records per HTTP page of an audit chain at most (a record is ~400 bytes as JSON).</summary>
    private const int ChainPageMax = 1_000;

    /// <summary>A shard named <c>kind-n</c> (<c>logs-3</c>, <c>logs-0003</c>) that exists in this cluster; otherwise <c>storage.not_found</c>.</summary>
    internal static (ShardKind Kind, int Shard) ParseShard(ForgeOneCluster cluster, string name)
    {
        var dash = name.LastIndexOf('-');
        var kindName = dash > 0 ? name[..dash] : name;
        var kind = Enum.GetValues<ShardKind>().FirstOrDefault(k => k.FolderName() == kindName);
        if (dash <= 0 || kind.FolderName() != kindName || !int.TryParse(name.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            throw new ForgeOneException(ErrorCodes.InvalidId, $"'{name}' is not a shard name: kind-number, e.g. logs-3 (kinds: {string.Join(", ", Enum.GetValues<ShardKind>().Select(k => k.FolderName()))}).");
        }

        var count = cluster.Regions.Counts.Of(kind);
        return n < count ? (kind, n) : throw new ForgeOneException(ErrorCodes.NotFound, $"There is no shard {name}: {kind.FolderName()} has {count} shard{(count == 1 ? "" : "s")} (0..{count - 1}).");
    }

    private static async Task<MembershipInput> ReadMembershipAsync(HttpContext http, EdgeOptions options) =>
        http.Request.ContentLength is 0 || (http.Request.ContentLength is null && !http.Request.Headers.ContentType.Any())
            ? new MembershipInput()
            : await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.MembershipInput).ConfigureAwait(false);

    // A member is named by host and port; the scheme is the cluster's transport (akka.ssl.tcp with
    // TLS), so an akka.tcp:// address names the same member, as it does for seed nodes.
    private static Address ParseAddress(string text, Akka.Cluster.Cluster akka)
    {
        try
        {
            var address = Address.Parse(text);
            return address.Host is not null && address.Port is not null ? address.WithProtocol(akka.SelfAddress.Protocol) : throw new UriFormatException("no host and port");
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{text}' is not a member address (akka.ssl.tcp://system@host:port): {e.Message}");
        }
    }

    private static Member FindMember(Akka.Cluster.Cluster akka, string text)
    {
        var address = ParseAddress(text, akka);
        return akka.State.Members.FirstOrDefault(m => m.Address.Equals(address))
            ?? throw new ForgeOneException(ErrorCodes.NotFound, $"{address} is not a member of the cluster this node sees ({akka.State.Members.Count} members).");
    }

    internal static async Task<RegionStatsView> RegionStatsAsync(EdgeCluster cluster, string region)
    {
        var c = cluster.Require();
        var (actor, role, typeName) = ResolveRegion(c, region);
        var akka = Akka.Cluster.Cluster.Get(c.System);
        var timeout = cluster.RequestTimeout;
        ClusterShardingStats stats;
        try
        {
            stats = await actor.Ask<ClusterShardingStats>(new GetClusterShardingStats(timeout), timeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException)
        {
            stats = new ClusterShardingStats(ImmutableDictionary<Address, ShardRegionStats>.Empty);
        }

        // The coordinator answers with every region or, when one of them times out, with none at
        // all. So every expected host missing from its answer is asked directly, and the ones that
        // still do not answer are named.
        var found = stats.Regions.ToDictionary(r => r.Key, r => r.Value);
        var expected = akka.State.Members.Where(m => m.HasRole(role) && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving).Select(m => m.Address).ToList();
        var missing = expected.Where(a => !found.ContainsKey(a)).ToList();
        var direct = await Task.WhenAll(missing.Select(async address =>
        {
            try
            {
                var path = new RootActorPath(address) / "system" / "sharding" / typeName;
                var answer = await c.System.ActorSelection(path).Ask<ShardRegionStats>(GetShardRegionStats.Instance, timeout).ConfigureAwait(false);
                return (address, (ShardRegionStats?)answer);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException or ActorNotFoundException)
            {
                return (address, (ShardRegionStats?)null);
            }
        })).ConfigureAwait(false);
        foreach (var (address, answer) in direct.Where(d => d.Item2 is not null))
        {
            found[address] = answer!;
        }

        var nodes = found.OrderBy(r => r.Key, Akka.Cluster.Member.AddressOrdering)
            .Select(r => new RegionNodeView(r.Key.ToString(), [.. r.Value.Stats.OrderBy(s => int.TryParse(s.Key, out var n) ? n : int.MaxValue).ThenBy(s => s.Key, StringComparer.Ordinal).Select(s => new RegionShardView(s.Key, s.Value))]))
            .ToArray();
        var silent = direct.Where(d => d.Item2 is null).Select(d => d.address).Order(Akka.Cluster.Member.AddressOrdering).Select(a => a.ToString()).ToArray();
        return new RegionStatsView(typeName, nodes, silent);
    }

    private static (IActorRef Region, string Role, string TypeName) ResolveRegion(ForgeOneCluster cluster, string region)
    {
        var kind = Enum.GetValues<ShardKind>().Where(k => k.FolderName() == region).Select(k => (ShardKind?)k).FirstOrDefault();
        if (kind is { } k && cluster.Regions.ByKind.TryGetValue(k, out var actor))
        {
            return (actor, ForgeOneNodeOptions.StorageRole, ShardEntityId.TypeName(k));
        }

        foreach (var ((zk, zone), zoned) in cluster.ZoneRegions)
        {
            if (ForgeOneCluster.ZonedTypeName(zk, zone) == region)
            {
                return (zoned, ForgeOneCluster.RegionRole(zone), region);
            }
        }

        var known = cluster.Regions.ByKind.Keys.Select(ShardEntityId.TypeName).Concat(cluster.ZoneRegions.Keys.Select(z => ForgeOneCluster.ZonedTypeName(z.Kind, z.Zone)));
        throw new ForgeOneException(ErrorCodes.NotFound, $"There is no shard region '{region}' (regions: {string.Join(", ", known)}).");
    }

    private static async Task StreamEventsAsync(HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization, EdgeOptions options, TimeProvider time)
    {
        authorization.Require(http.Principal().Principal, Permissions.SystemRead, "system");
        var system = cluster.Require().System;
        // Membership events are rare (a handful per node lifetime), so an unbounded channel holds
        // at most what a stalled reader missed of them; the bridge stops with the request.
        var channel = Channel.CreateUnbounded<ClusterEventView>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bridge = system.ActorOf(Props.Create(() => new ClusterEventBridge(channel.Writer, subscribed, time)));
        try
        {
            // Answer only once subscribed: a client that acts after the headers arrived sees the change.
            try
            {
                await subscribed.Task.WaitAsync(cluster.RequestTimeout, http.RequestAborted).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new ForgeOneException(ErrorCodes.Timeout, $"The cluster event subscription did not start within {cluster.RequestTimeout.TotalSeconds:0.#} s.");
            }

            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = EventRoutes.EventStream;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            await response.Body.WriteAsync("retry: 1000\n: cluster events from now on\n\n"u8.ToArray(), http.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            var wait = channel.Reader.WaitToReadAsync(http.RequestAborted).AsTask();
            while (true)
            {
                var heartbeat = Task.Delay(options.SubscriptionHeartbeat, time, http.RequestAborted);
                if (await Task.WhenAny(wait, heartbeat).ConfigureAwait(false) != wait)
                {
                    await response.Body.WriteAsync(": keep-alive\n\n"u8.ToArray(), http.RequestAborted).ConfigureAwait(false);
                    await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                    continue;
                }

                if (!await wait.ConfigureAwait(false))
                {
                    return;
                }

                while (channel.Reader.TryRead(out var e))
                {
                    var json = JsonSerializer.SerializeToUtf8Bytes(e, ApiJsonContext.Default.ClusterEventView);
                    await response.Body.WriteAsync(Encoding.UTF8.GetBytes("event: member\ndata: "), http.RequestAborted).ConfigureAwait(false);
                    await response.Body.WriteAsync(json, http.RequestAborted).ConfigureAwait(false);
                    await response.Body.WriteAsync("\n\n"u8.ToArray(), http.RequestAborted).ConfigureAwait(false);
                }

                await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                wait = channel.Reader.WaitToReadAsync(http.RequestAborted).AsTask();
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away: the normal end of a tail.
        }
        finally
        {
            bridge.Tell(PoisonPill.Instance);
        }
    }

    /// <summary>Subscribes to this node's cluster events for one SSE connection and writes them to its channel.</summary>
    private sealed class ClusterEventBridge : ReceiveActor
    {
        private readonly ChannelWriter<ClusterEventView> _writer;

        public ClusterEventBridge(ChannelWriter<ClusterEventView> writer, TaskCompletionSource subscribed, TimeProvider time)
        {
            _writer = writer;
            // The snapshot is the state before the tail started (`cluster show` prints it); its
            // arrival means every later change will reach this actor.
            Receive<ClusterEvent.CurrentClusterState>(_ => subscribed.TrySetResult());
            Receive<ClusterEvent.IMemberEvent>(e => Write(e.GetType().Name, e.Member, time));
            Receive<ClusterEvent.UnreachableMember>(e => Write(nameof(ClusterEvent.UnreachableMember), e.Member, time));
            Receive<ClusterEvent.ReachableMember>(e => Write(nameof(ClusterEvent.ReachableMember), e.Member, time));
            Receive<ClusterEvent.LeaderChanged>(e => _writer.TryWrite(new ClusterEventView(nameof(ClusterEvent.LeaderChanged), e.Leader?.ToString() ?? string.Empty, string.Empty, [], time.GetUtcNow())));
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));

        protected override void PostStop()
        {
            Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
            _writer.TryComplete();
        }

        private void Write(string type, Member member, TimeProvider time) =>
            _writer.TryWrite(new ClusterEventView(type, member.Address.ToString(), member.Status.ToString(), [.. member.Roles.Order(StringComparer.Ordinal)], time.GetUtcNow()));
    }
}
