using System.Text;
using Akka.Actor;
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
using S = ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/v1/system</c> (settings and metadata with history, residency directory, keys),
/// <c>/v1/audit</c> (chain heads, seals, seal verification) and <c>/v1/cluster</c> (members,
/// shard placement and counters): what an operator and the CLI need.
/// </summary>
internal static class SystemRoutes
{
    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var system = v1.MapGroup("/system").WithTags("System");
        foreach (var (segment, table) in new[] { ("settings", S.KeyValueTable.Settings), ("metadata", S.KeyValueTable.Metadata) })
        {
            var name = segment == "settings" ? "Setting" : "Metadata";
            system.MapGet($"/{segment}/{{key}}", async (string key, HttpContext http, EdgeCluster cluster) =>
            {
                var current = await cluster.AskAsync<S.CurrentSetting>(new S.GetSetting(http.Principal().Token, table, key), http.RequestAborted).ConfigureAwait(false);
                return current.Setting is { } s
                    ? Results.Json(s.ToView(), ApiJsonContext.Default.SettingView)
                    : throw new ForgeOneException(ErrorCodes.NotFound, $"{name} '{key}' was never set.");
            })
                .WithName($"Get{name}").WithSummary($"The current version of a {segment} key.")
                .Produces<SettingView>().Problems(404);

            system.MapPut($"/{segment}/{{key}}", async (string key, HttpContext http, EdgeCluster cluster) =>
            {
                var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.SettingInput).ConfigureAwait(false);
                if ((input.Value is null) == (input.ValueBase64 is null))
                {
                    throw new ForgeOneException(ErrorCodes.InvalidArgument, "Give exactly one of 'value' (text) or 'valueBase64' (bytes).");
                }

                var bytes = input.ValueBase64 ?? Encoding.UTF8.GetBytes(input.Value!);
                var stored = await cluster.AskAsync<S.SettingStored>(new S.PutSetting(http.Principal().Token, table, key, bytes, input.ExpectedVersion), http.RequestAborted).ConfigureAwait(false);
                return Results.Json(stored.Setting.ToView(), ApiJsonContext.Default.SettingView);
            })
                .WithName($"Put{name}").WithSummary($"Stores a new version of a {segment} key (history kept, audited); expectedVersion makes it a compare-and-set.")
                .JsonBody<SettingInput>(options.MaxJsonBodyBytes)
                .Produces<SettingView>().Problems(409);

            system.MapGet($"/{segment}/{{key}}/history", async (string key, HttpContext http, EdgeCluster cluster) =>
            {
                var history = await cluster.AskAsync<S.SettingHistory>(new S.GetSettingHistory(http.Principal().Token, table, key), http.RequestAborted).ConfigureAwait(false);
                return Results.Json(new SettingHistory(history.Key, [.. history.Versions.Select(v => v.ToView())]), ApiJsonContext.Default.SettingHistory);
            })
                .WithName($"Get{name}History").WithSummary($"Every version of a {segment} key, oldest first.")
                .Produces<SettingHistory>().Problems();
        }

        system.MapGet("/residency", async (HttpContext http, EdgeCluster cluster) =>
        {
            var directory = await cluster.AskAsync<S.CurrentResidencyDirectory>(new S.GetResidencyDirectory(http.Principal().Token), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new ResidencyDirectoryView(directory.Version, [.. directory.Entries.Select(e => e.ToView())]), ApiJsonContext.Default.ResidencyDirectoryView);
        })
            .WithName("GetResidencyDirectory").WithSummary("Which zone each topic's and tenant's data must stay in.")
            .Produces<ResidencyDirectoryView>().Problems();

        system.MapPut("/residency/{scope}/{name}", async (string scope, string name, HttpContext http, EdgeCluster cluster) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.ResidencyInput).ConfigureAwait(false);
            var set = await cluster.AskAsync<S.ResidencySet>(new S.SetResidency(http.Principal().Token, Mapping.ParseScope(scope), name, input.Zone, input.Reason), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(set.Entry.ToView(), ApiJsonContext.Default.ResidencyEntryView);
        })
            .WithName("SetResidency").WithSummary("Sets (zone null: clears) the residency zone of a tenant, log topic or event topic (residency:admin; audited).")
            .JsonBody<ResidencyInput>(options.MaxJsonBodyBytes)
            .Produces<ResidencyEntryView>().Problems(409);

        var keys = system.MapGroup("/keys").WithTags("Keys");
        keys.MapPost("/rotate", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var input = await RequestBody.ReadJsonAsync(http, ApiJsonContext.Default.RotateKeysInput).ConfigureAwait(false);
            var caller = http.Principal().Token;
            authorization.Require(http.Principal().Principal, Permissions.KeysAdmin, "keys");
            var c = cluster.Require();
            var done = await cluster.AskActorAsync<KeyRotationProtocol.RotationDone>(c.KeyRotation, new KeyRotationProtocol.RotateAll(caller, input.Reason ?? "on demand over HTTP"), http.RequestAborted, cluster.RequestTimeout * 4).ConfigureAwait(false);
            return Results.Json(new KeyRotationView(done.Rotated, done.Checked, done.Failures), ApiJsonContext.Default.KeyRotationView);
        })
            .WithName("RotateKeys").WithSummary("Rotates every shard's data key now (keys:admin; every key event audited).")
            .JsonBody<RotateKeysInput>(options.MaxJsonBodyBytes)
            .Produces<KeyRotationView>().Problems();

        keys.MapGet("/events", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.KeysAdmin, "keys");
            var c = cluster.Require();
            var history = await cluster.AskActorAsync<KeyRotationProtocol.KeyEventHistory>(c.KeyRotation, new KeyRotationProtocol.GetKeyEventHistory(http.Principal().Token), http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new KeyEventsView(history.Events), ApiJsonContext.Default.KeyEventsView);
        })
            .WithName("GetKeyEvents").WithSummary("The cluster-wide key event history (keys:admin).")
            .Produces<KeyEventsView>().Problems();

        var audit = v1.MapGroup("/audit").WithTags("Audit");
        audit.MapGet("/heads", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditRead, "audit");
            return Results.Json(await HeadsAsync(cluster, http.Principal().Token).ConfigureAwait(false), ApiJsonContext.Default.AuditHeadsView);
        })
            .WithName("GetAuditHeads").WithSummary("Every shard's committed audit chain head (audit:read).")
            .Produces<AuditHeadsView>().Problems();

        audit.MapGet("/seals", async (int? limit, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditRead, "audit");
            var history = await SealsAsync(cluster, http.Principal().Token, http.RequestAborted).ConfigureAwait(false);
            var take = LogRoutes.Limit(limit, 20, 10_000);
            var seals = history.Seals.Skip(Math.Max(0, history.Seals.Length - take)).Select(SealCodecView).ToArray();
            return Results.Json(new SealList(seals, history.Numbers.Length), ApiJsonContext.Default.SealList);
        })
            .WithName("ListSeals").WithSummary("The newest audit seals, oldest first (audit:read).")
            .Produces<SealList>().Problems();

        audit.MapPost("/seals", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var c = cluster.Require();
            var done = await cluster.AskActorAsync<SealerProtocol.SealDone>(c.Sealer, new SealerProtocol.SealNow(http.Principal().Token), http.RequestAborted, cluster.RequestTimeout * 2).ConfigureAwait(false);
            // A seal is written only when some head moved: otherwise the answer is the last seal, 200.
            return Results.Json(new SealWritten(done.Number, done.Time, done.Heads), ApiJsonContext.Default.SealWritten, statusCode: done.Written ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        })
            .WithName("SealNow").WithSummary("Seals every shard's audit head now instead of at the next interval (audit:export); 200 with the last seal when no head moved since it.")
            .Produces<SealWritten>(StatusCodes.Status201Created).Produces<SealWritten>(StatusCodes.Status200OK).Problems();

        audit.MapGet("/seals/verify", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.AuditRead, "audit");
            var c = cluster.Require();
            var key = await cluster.AskActorAsync<SealerProtocol.AuditPublicKey>(c.Sealer, new SealerProtocol.GetAuditPublicKey(http.Principal().Token), http.RequestAborted).ConfigureAwait(false);
            var history = await SealsAsync(cluster, http.Principal().Token, http.RequestAborted).ConfigureAwait(false);
            using var verifier = new SealVerifier(key.Pem);
            var seals = history.Seals.Select(s => SealCodec.Decode(s)).ToList();
            var result = verifier.VerifyHistory(seals);
            return Results.Json(new SealVerificationView(result.IsValid, result.Failure.ToString(), result.FirstBadNumber, result.Message, seals.Count, key.Fingerprint), ApiJsonContext.Default.SealVerificationView);
        })
            .WithName("VerifySeals").WithSummary("Verifies the seal history (signatures, numbering, links) under the audit public key (audit:read).")
            .Produces<SealVerificationView>().Problems();

        var members = v1.MapGroup("/cluster").WithTags("Cluster");
        members.MapGet("/", (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.SystemRead, "system");
            var akka = Akka.Cluster.Cluster.Get(cluster.Require().System);
            var state = akka.State;
            var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
            var list = state.Members.Select(m => new MemberView(m.Address.ToString(), m.Status.ToString(), [.. m.Roles.Order(StringComparer.Ordinal)], !unreachable.Contains(m.Address), m.AppVersion.ToString())).ToArray();
            return Results.Json(new ClusterView(akka.SelfAddress.ToString(), state.Leader?.ToString(), list), ApiJsonContext.Default.ClusterView);
        })
            .WithName("GetCluster").WithSummary("Cluster members with roles, status and reachability, and the leader, as this node sees them (system:read).")
            .Produces<ClusterView>().Problems();

        members.MapGet("/shards", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.SystemRead, "system");
            return Results.Json(await PlacementsAsync(cluster).ConfigureAwait(false), ApiJsonContext.Default.ShardPlacementsView);
        })
            .WithName("GetShardPlacement").WithSummary("Which node hosts which shards of every region (system:read).")
            .Produces<ShardPlacementsView>().Problems();

        members.MapGet("/shards/stats", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            authorization.Require(http.Principal().Principal, Permissions.SystemRead, "system");
            var c = cluster.Require();
            var replies = await c.Regions.AskAll((kind, n) => new ShardProtocol.GetShardStats(http.Principal().Token, kind, n), cluster.RequestTimeout).ConfigureAwait(false);
            var stats = replies.Select(r => r.Reply).OfType<ShardProtocol.ShardStats>()
                .Select(s => new ShardStatsView(ShardEntityId.Of(s.Kind, s.Shard), s.Node, s.CommitCount, s.CommandsApplied, s.AuditSequence)).ToArray();
            return Results.Json(stats, ApiJsonContext.Default.ShardStatsViewArray);
        })
            .WithName("GetShardStats").WithSummary("Every shard's counters: commits, commands applied, audit sequence (system:read).")
            .Produces<ShardStatsView[]>().Problems();
    }

    internal static async Task<AuditHeadsView> HeadsAsync(EdgeCluster cluster, PrincipalToken token)
    {
        var c = cluster.Require();
        var replies = await c.Regions.AskAll((kind, n) => new ShardProtocol.GetAuditHead(token, kind, n), cluster.RequestTimeout).ConfigureAwait(false);
        var heads = replies.Select(r => r.Reply).OfType<ShardProtocol.AuditHead>()
            .Select(h => new AuditHeadView(ShardEntityId.Of(h.Kind, h.Shard), h.Sequence, Convert.ToHexStringLower(h.Hash))).ToArray();
        var missing = replies.Where(r => r.Reply is not ShardProtocol.AuditHead).Select(r => ShardEntityId.Of(r.Kind, r.Shard)).ToArray();
        return new AuditHeadsView(heads, missing);
    }

    internal static Task<SealerProtocol.SealHistory> SealsAsync(EdgeCluster cluster, PrincipalToken token, CancellationToken cancellationToken) =>
        cluster.AskActorAsync<SealerProtocol.SealHistory>(cluster.Require().Sealer, new SealerProtocol.GetSealHistory(token), cancellationToken);

    internal static SealView SealCodecView(byte[] encoded)
    {
        var seal = SealCodec.Decode(encoded);
        return new SealView(seal.Number, seal.Time, Convert.ToHexStringLower(seal.MerkleRoot), Convert.ToHexStringLower(seal.PrevSealHash), Convert.ToBase64String(seal.Signature),
            [.. seal.Heads.Select(h => new AuditHeadView(h.ShardId, h.Seq, Convert.ToHexStringLower(h.Hash)))]);
    }

    internal static async Task<ShardPlacementsView> PlacementsAsync(EdgeCluster cluster)
    {
        var c = cluster.Require();
        var regions = c.Regions.ByKind.Select(r => (Name: ShardEntityId.TypeName(r.Key), Region: r.Value))
            .Concat(c.ZoneRegions.Select(z => (Name: ForgeOneCluster.ZonedTypeName(z.Key.Kind, z.Key.Zone), Region: z.Value)));
        var placements = new List<ShardPlacementView>();
        var failures = new List<string>();
        foreach (var (name, region) in regions)
        {
            try
            {
                var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(cluster.RequestTimeout), cluster.RequestTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                foreach (var (address, regionStats) in stats.Regions)
                {
                    var shards = regionStats.Stats.Keys.Select(k => int.TryParse(k, out var n) ? n : -1).Where(n => n >= 0).Order().ToArray();
                    placements.Add(new ShardPlacementView(name, address.ToString(), shards));
                }
            }
            catch (Exception e) when (e is Akka.Actor.AskTimeoutException or TimeoutException)
            {
                failures.Add($"{name}: no answer within {cluster.RequestTimeout.TotalSeconds:0.#} s");
            }
        }

        return new ShardPlacementsView([.. placements], [.. failures]);
    }
}
