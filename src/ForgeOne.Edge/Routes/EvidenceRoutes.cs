using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Auth;
using ForgeOne.Edge.Http;
using ForgeOne.Evidence;
using ForgeOne.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using B = ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// Evidence packages and audit record proofs for auditors (<c>audit:export</c>): the edge gathers
/// the chains (read at their shards, which authorize and audit the read), the seals, key events,
/// backups and drills, builds the package, and has the manifest signed by the node that holds the
/// audit key (the sealer). Everything the auditor checks verifies offline with the public key.
/// </summary>
public static class EvidenceRoutes
{
    private const int Page = ShardProtocol.ReadAudit.MaxLimit;

    /// <summary>Maps <c>/v1/evidence/export</c>, <c>/v1/audit/proofs/{chain}/{seq}</c> and <c>/v1/audit/consistency/{chain}</c>.</summary>
    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(v1);
        ArgumentNullException.ThrowIfNull(options);
        v1.MapGet("/evidence/export", async (string? framework, DateTimeOffset? from, DateTimeOffset? to, string? tenant, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization, TimeProvider time) =>
        {
            var caller = http.Principal().Token;
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            if (from is not { } start || to is not { } end)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, "from and to (ISO 8601 times) bound the period of the package");
            }

            var scope = new EvidenceScope([framework ?? "all"], start, end, string.IsNullOrWhiteSpace(tenant) ? null : tenant, http.Principal().Principal.Id);
            return Package(await ExportAsync(cluster, caller, scope, [], time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false), scope);
        })
            .WithTags("Evidence").WithName("ExportEvidence")
            .WithSummary("An evidence package (tar.gz) of the period for soc2, iso27001, gdpr or all: audit chains, seals, key/backup/drill/schema/policy/API-key/retention evidence, control maps, signed manifest (audit:export).")
            .Produces(StatusCodes.Status200OK, contentType: "application/gzip").Problems();

        v1.MapPost("/evidence/export", async (HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization, TimeProvider time) =>
        {
            var caller = http.Principal().Token;
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var input = await RequestBody.ReadJsonAsync(http, EvidenceApiJsonContext.Default.EvidenceExportInput).ConfigureAwait(false);
            var scope = new EvidenceScope([input.Framework ?? "all"], input.From, input.To, string.IsNullOrWhiteSpace(input.Tenant) ? null : input.Tenant, http.Principal().Principal.Id);
            var attachments = (input.Attachments ?? []).Select(a => (a.Name ?? "", a.Content ?? [])).ToList();
            return Package(await ExportAsync(cluster, caller, scope, attachments, time.GetUtcNow(), http.RequestAborted).ConfigureAwait(false), scope);
        })
            .WithTags("Evidence").WithName("ExportEvidenceWithAttachments")
            .WithSummary("The same package with test reports attached under attachments/ (covered by the signed manifest) (audit:export).")
            .JsonBody<EvidenceExportInput>(options.MaxJsonBodyBytes)
            .Produces(StatusCodes.Status200OK, contentType: "application/gzip").Problems();

        var audit = v1.MapGroup("/audit").WithTags("Audit");
        audit.MapGet("/proofs/{chain}/{seq:long}", async (string chain, long seq, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var caller = http.Principal().Token;
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var (kind, shard, region) = Resolve(cluster, chain);
            var seal = await LatestTreeSealAsync(cluster, caller, chain, seq, http.RequestAborted).ConfigureAwait(false);
            var head = seal.HeadOf(chain)!;
            var records = await ReadChainAsync(cluster, caller, kind, shard, region, head.Seq, http.RequestAborted).ConfigureAwait(false);
            var proof = RecordProof.Create(seal, chain, TreeOf(records, head.Seq), seq, records[(int)seq - 1]);
            return Results.File(AuditProofCodec.Encode(proof), "application/octet-stream", $"{chain}-{seq}.proof");
        })
            .WithName("ProveAuditRecord")
            .WithSummary("A proof (FOAP file) that audit record {seq} of {chain}, as stored, is in the chain the newest format-3 seal covering it signed; verify offline with the public key (audit:export).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream").Problems();

        audit.MapGet("/consistency/{chain}", async (string chain, long? from, long? to, HttpContext http, EdgeCluster cluster, EdgeAuthorization authorization) =>
        {
            var caller = http.Principal().Token;
            authorization.Require(http.Principal().Principal, Permissions.AuditExport, "audit");
            var (kind, shard, region) = Resolve(cluster, chain);
            var seals = (await SystemRoutes.SealsAsync(cluster, caller, http.RequestAborted).ConfigureAwait(false)).Seals.Select(s => SealCodec.Decode(s))
                .Where(s => s.Format == SealCodec.FormatV3 && s.HeadOf(chain) is not null).ToList();
            var older = seals.FirstOrDefault(s => s.Number == from) ?? (from is null ? seals.FirstOrDefault() : null);
            var newer = seals.FirstOrDefault(s => s.Number == to) ?? (to is null ? seals.LastOrDefault() : null);
            if (older is null || newer is null || older.Number >= newer.Number)
            {
                throw new ForgeOneException(ErrorCodes.NotFound, $"no two format-3 seals (from {from?.ToString() ?? "first"} to {to?.ToString() ?? "last"}) cover {chain}");
            }

            var size = newer.HeadOf(chain)!.Seq;
            var records = await ReadChainAsync(cluster, caller, kind, shard, region, size, http.RequestAborted).ConfigureAwait(false);
            var proof = ConsistencyProof.Create(older, newer, chain, TreeOf(records, size));
            return Results.File(AuditProofCodec.Encode(proof), "application/octet-stream", $"{chain}-{older.Number}-{newer.Number}.consistency");
        })
            .WithName("ProveAuditConsistency")
            .WithSummary("A proof that {chain}'s audit tree at seal ?to extends its tree at seal ?from (defaults: first and last format-3 seals) (audit:export).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream").Problems();
    }

    private static IResult Package(byte[] package, EvidenceScope scope) =>
        Results.File(package, "application/gzip", $"forgeone-evidence-{scope.Frameworks[0]}-{scope.From:yyyyMMdd}-{scope.To:yyyyMMdd}.tar.gz");

    /// <summary>Gathers the sources, builds the files, has the manifest signed, and returns the package bytes.</summary>
    internal static async Task<byte[]> ExportAsync(EdgeCluster cluster, PrincipalToken caller, EvidenceScope scope, IReadOnlyList<(string Name, byte[] Bytes)> attachments, DateTimeOffset now, CancellationToken ct)
    {
        // Refuse a bad framework or period before reading a single chain.
        _ = scope.Frameworks.SelectMany(ControlMaps.Select).ToList();
        if (scope.From > scope.To)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"the period starts ({scope.From:O}) after it ends ({scope.To:O})");
        }

        var c = cluster.Require();
        var key = await cluster.AskActorAsync<SealerProtocol.AuditPublicKey>(c.Sealer, new SealerProtocol.GetAuditPublicKey(caller), ct).ConfigureAwait(false);
        using var verifier = new SealVerifier(key.Pem);
        var allSeals = (await SystemRoutes.SealsAsync(cluster, caller, ct).ConfigureAwait(false)).Seals.Select(s => SealCodec.Decode(s)).ToList();
        var seals = allSeals.Where(s => s.Time >= scope.From && s.Time <= scope.To).ToList();

        var audit = new List<ShardAudit>();
        foreach (var (kind, shard, chain, headSeq, region) in await HeadsAsync(cluster, caller).ConfigureAwait(false))
        {
            var stored = await ReadChainAsync(cluster, caller, kind, shard, region, headSeq, ct).ConfigureAwait(false);
            var records = stored.Select(b => AuditRecordCodec.Decode(b)).ToList();
            // The period's records, and on to the last head a seal of the period signed (so every sealed head is in the package).
            var first = records.FindIndex(r => r.Time >= scope.From);
            var sealedTo = seals.Select(s => s.HeadOf(chain)?.Seq ?? 0).DefaultIfEmpty(0).Max();
            var last = Math.Max(records.FindLastIndex(r => r.Time <= scope.To), (int)sealedTo - 1);
            if (first < 0 || last < first)
            {
                audit.Add(new ShardAudit(chain, []));
                continue;
            }

            audit.Add(new ShardAudit(chain, [.. records.Skip(first).Take(last - first + 1).Select(r => new AuditEntry(r))]));
        }

        var items = new List<EvidenceItem>();
        var keyEvents = await cluster.AskActorAsync<KeyRotationProtocol.KeyEventHistory>(c.KeyRotation, new KeyRotationProtocol.GetKeyEventHistory(caller), ct).ConfigureAwait(false);
        items.AddRange(keyEvents.Events.Select(e => new EvidenceItem(EvidenceCategories.Keys, "key-rotation-coordinator", JsonValue.Create(e))));
        var backups = await cluster.AskActorAsync<B.BackupList>(c.Backup, new B.ListBackups(caller, 10_000), ct).ConfigureAwait(false);
        items.AddRange(backups.Backups.Where(b => b.StartedAt <= scope.To && (b.CompletedAt ?? b.StartedAt) >= scope.From)
            .Select(b => new EvidenceItem(EvidenceCategories.Backups, "backup-catalog", JsonSerializer.SerializeToNode(b)!)));
        var drills = await cluster.AskActorAsync<B.DrillList>(c.Backup, new B.ListDrills(caller), ct).ConfigureAwait(false);
        items.AddRange(drills.Drills.Where(d => d.At >= scope.From && d.At <= scope.To)
            .Select(d => new EvidenceItem(EvidenceCategories.Drills, "backup-coordinator", JsonSerializer.SerializeToNode(d)!)));

        var topics = new List<ProcessingTopic>();
        for (var n = 0; n < c.Regions.Counts.Of(ShardKind.Events); n++)
        {
            var page = await cluster.AskAsync<EventProtocol.TopicPage>(new EventProtocol.ListTopics(caller, n, 1000), ct).ConfigureAwait(false);
            topics.AddRange(page.Topics.Select(t => new ProcessingTopic(t.Name, "events", t.Metadata.GetValueOrDefault("tenant"), t.CreatedAt, t.Retention, t.ResidencyZone, t.Classification, t.LegalHold, t.Metadata)));
        }

        var sources = new EvidenceSources(audit, seals, items, topics, attachments, Regions: [.. c.ZoneRegions.Keys.Select(k => k.Zone).Distinct(StringComparer.Ordinal)]);
        var (files, resolved) = EvidenceExport.Prepare(sources, scope, verifier, now);
        var (_, manifest) = EvidencePackage.Manifest(files, key.Fingerprint, resolved, now);
        var signed = await cluster.AskActorAsync<SealerProtocol.EvidenceManifestSigned>(c.Sealer, new SealerProtocol.SignEvidenceManifest(caller, manifest), ct).ConfigureAwait(false);
        using var output = new MemoryStream();
        EvidencePackage.WriteSigned(output, files, manifest, signed.Signature, signed.KeyId, now);
        return output.ToArray();
    }

    private static async Task<List<(ShardKind Kind, int Shard, string Chain, long Head, IActorRef Region)>> HeadsAsync(EdgeCluster cluster, PrincipalToken caller)
    {
        var c = cluster.Require();
        var shards = c.Regions.All().ToList();
        var replies = await c.Regions.AskEvery((kind, n, _) => new ShardProtocol.GetAuditHead(caller, kind, n), cluster.RequestTimeout).ConfigureAwait(false);
        var missing = replies.Where(r => r.Reply is not ShardProtocol.AuditHead).Select(r => r.ChainId).ToList();
        if (missing.Count > 0)
        {
            // A package must hold every chain: a silent shard would look like a removed one.
            throw new ForgeOneException(ErrorCodes.Unavailable, $"shards {string.Join(", ", missing)} did not answer; export again when they serve");
        }

        return [.. replies.Select(r => (r, h: (ShardProtocol.AuditHead)r.Reply!))
            .Select(x => (x.h.Kind, x.h.Shard, x.h.Chain, x.h.Sequence, shards.First(s => s.Kind == x.r.Kind && s.Shard == x.r.Shard && s.Zone == x.r.Zone).Region))];
    }

    /// <summary>The region that serves a chain id (<c>logs-0003</c>, <c>logs-0003@eu</c>).</summary>
    private static (ShardKind Kind, int Shard, IActorRef Region) Resolve(EdgeCluster cluster, string chain)
    {
        var at = chain.IndexOf('@', StringComparison.Ordinal);
        var zone = at < 0 ? null : chain[(at + 1)..];
        var (kind, shard) = ParseChain(at < 0 ? chain : chain[..at]);
        var found = cluster.Require().Regions.All().Where(s => s.Kind == kind && s.Shard == shard && s.Zone == zone).Select(s => s.Region).FirstOrDefault();
        return found is null ? throw new ForgeOneException(ErrorCodes.NotFound, $"this cluster has no chain {chain}") : (kind, shard, found);
    }

    /// <summary>A shard's stored records 1..<paramref name="upTo"/>, paged.</summary>
    internal static async Task<List<byte[]>> ReadChainAsync(EdgeCluster cluster, PrincipalToken caller, ShardKind kind, int shard, IActorRef region, long upTo, CancellationToken ct)
    {
        var records = new List<byte[]>();
        while (records.Count < upTo)
        {
            var reply = await region.Ask<object>(new ShardProtocol.ReadAudit(caller, kind, shard, records.Count + 1, (int)Math.Min(Page, upTo - records.Count)), cluster.RequestTimeout, ct).ConfigureAwait(false);
            var page = EdgeCluster.Expect<ShardProtocol.AuditPage>(reply);
            if (page.Records.Length == 0)
            {
                throw new ForgeOneException(ErrorCodes.AuditChainBroken, $"{ShardEntityId.Of(kind, shard)} holds {records.Count} audit records, fewer than the {upTo} a seal covers");
            }

            records.AddRange(page.Records);
        }

        return records;
    }

    private static async Task<Seal> LatestTreeSealAsync(EdgeCluster cluster, PrincipalToken caller, string chain, long seq, CancellationToken ct)
    {
        var history = await SystemRoutes.SealsAsync(cluster, caller, ct).ConfigureAwait(false);
        for (var i = history.Seals.Length - 1; i >= 0; i--)
        {
            var seal = SealCodec.Decode(history.Seals[i]);
            if (seal.Format == SealCodec.FormatV3 && seal.HeadOf(chain) is { } head && head.Seq >= seq && !seal.NewIncarnations.Contains(chain))
            {
                return seal;
            }
        }

        throw new ForgeOneException(ErrorCodes.NotFound, $"no format-3 seal covers record {seq} of {chain} yet; seal (POST /v1/audit/seals) and ask again");
    }

    private static MerkleLog TreeOf(List<byte[]> records, long size)
    {
        var tree = new MerkleLog();
        foreach (var r in records.Take((int)size))
        {
            tree.Append(r);
        }

        return tree;
    }

    private static (ShardKind Kind, int Shard) ParseChain(string chain)
    {
        // Chain ids are "{kind}-{n:D4}" (a zone's chains add "@zone", split off by the caller).
        var dash = chain.LastIndexOf('-');
        if (dash > 0 && int.TryParse(chain.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && Enum.TryParse<ShardKind>(chain[..dash], ignoreCase: true, out var kind) && $"{kind.FolderName()}-{n:D4}" == chain)
        {
            return (kind, n);
        }

        throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{chain}' is not a chain id such as logs-0003");
    }
}
