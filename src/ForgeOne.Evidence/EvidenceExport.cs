using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Evidence;

/// <summary>
/// Turns gathered <see cref="EvidenceSources"/> into the files of a package (pure: same sources,
/// same files) and writes it signed. File layout (docs/EVIDENCE.md):
/// <code>
///   manifest.json, manifest.sig             signed SHA-256 of every other file
///   README.txt                              how to verify
///   audit/{shard}.jsonl                     one record per line: stored bytes (base64) + readable fields
///   seals/seals.jsonl, seals/verification.json
///   keys/ backups/ schema/ policy/ apikeys/ retention/ integrity/ access/   category files (*.jsonl)
///   gdpr/records-of-processing.json         Art. 30 (gdpr packages)
///   controls/{framework}.json, .md          control -> statement -> files
///   attachments/{name}                      test reports
/// </code>
/// </summary>
public static class EvidenceExport
{
    /// <summary>Builds the package's files.</summary>
    public static SortedDictionary<string, byte[]> Files(EvidenceSources sources, EvidenceScope scope, IReadOnlyList<FrameworkMap> frameworks, SealVerifier verifier, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(frameworks);
        ArgumentNullException.ThrowIfNull(verifier);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        var lines = EvidenceCategories.Listed.ToDictionary(c => c.Name, _ => new List<string>());

        foreach (var shard in sources.Audit.OrderBy(s => s.ShardId, StringComparer.Ordinal))
        {
            if (!EvidencePackage.IsSafePath(shard.ShardId) || shard.ShardId.Contains('/'))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{shard.ShardId}' is not a shard id");
            }

            var audit = new List<string>(shard.Entries.Count);
            foreach (var entry in shard.Entries)
            {
                var line = AuditLine.Of(entry);
                audit.Add(JsonSerializer.Serialize(line, EvidenceJson.Lines));
                foreach (var category in EvidenceCategories.Listed)
                {
                    if (category.Matches(entry.Record.Action, entry.Record.Outcome == AuditOutcome.Denied))
                    {
                        lines[category.Name].Add(JsonSerializer.Serialize(new CategoryLine(shard.ShardId, line.Seq, line.Time, line.Principal, line.Action, line.Resource, line.Outcome, line.Subject, null, null), EvidenceJson.Lines));
                    }
                }
            }

            files[$"audit/{shard.ShardId}.jsonl"] = EvidencePackage.Utf8Lines(audit);
        }

        foreach (var item in sources.Items ?? [])
        {
            if (!lines.TryGetValue(item.Category, out var list))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"unknown evidence category '{item.Category}'");
            }

            list.Add(JsonSerializer.Serialize(new CategoryLine(null, null, null, null, null, null, null, null, item.Source, item.Content), EvidenceJson.Lines));
        }

        foreach (var category in EvidenceCategories.Listed)
        {
            files[category.Path] = EvidencePackage.Utf8Lines(lines[category.Name]);
        }

        files[EvidenceCategories.SealsPath] = EvidencePackage.Utf8Lines(sources.Seals.Select(s => JsonSerializer.Serialize(SealLine.Of(s), EvidenceJson.Lines)));
        files[EvidenceCategories.SealVerificationPath] = JsonSerializer.SerializeToUtf8Bytes(SealCheck.Run(sources.Seals, verifier, now), EvidencePackage.Json);

        if (frameworks.Any(f => f.Framework == ControlMaps.Gdpr))
        {
            files[EvidenceCategories.ProcessingPath] = JsonSerializer.SerializeToUtf8Bytes(RecordsOfProcessing.Build(sources, scope, now), EvidencePackage.Json);
        }

        foreach (var (name, bytes) in sources.Attachments ?? [])
        {
            var path = $"attachments/{name}";
            if (name.Contains('/') || !EvidencePackage.IsSafePath(path) || !files.TryAdd(path, bytes))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"attachment name '{name}' is not a plain, unique file name");
            }
        }

        // Control maps last: they list the files that exist.
        foreach (var framework in frameworks)
        {
            var map = ControlMapFile.Of(framework, files.Keys);
            files[$"controls/{framework.Framework}.json"] = JsonSerializer.SerializeToUtf8Bytes(map, EvidencePackage.Json);
            files[$"controls/{framework.Framework}.md"] = Encoding.UTF8.GetBytes(map.Markdown());
        }

        files[EvidenceCategories.ReadmePath] = Encoding.UTF8.GetBytes(Readme(scope, verifier));
        return files;
    }

    /// <summary>Builds and writes a package signed with a local key; returns its manifest.</summary>
    public static EvidenceManifest Write(Stream output, EvidenceSources sources, EvidenceScope scope, AuditSigner signer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(signer);
        using var verifier = new SealVerifier(signer.ExportPublicKeyPem());
        var (files, resolved) = Prepare(sources, scope, verifier, now);
        return EvidencePackage.Write(output, files, signer, resolved, now);
    }

    /// <summary>
    /// The files and the resolved scope (<c>all</c> expanded) of a package, for a caller that has
    /// the manifest signed elsewhere (the edge asks the node holding the audit key).
    /// </summary>
    public static (SortedDictionary<string, byte[]> Files, EvidenceScope Scope) Prepare(EvidenceSources sources, EvidenceScope scope, SealVerifier verifier, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.From > scope.To)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"the period starts ({scope.From:O}) after it ends ({scope.To:O})");
        }

        var frameworks = scope.Frameworks.SelectMany(ControlMaps.Select).DistinctBy(f => f.Framework).ToList();
        var resolved = scope with { Frameworks = [.. frameworks.Select(f => f.Framework)] };
        return (Files(sources, resolved, frameworks, verifier, now), resolved);
    }

    private static string Readme(EvidenceScope scope, SealVerifier verifier) =>
        $"""
        ForgeOne evidence package
        Period: {scope.From:O} .. {scope.To:O}{(scope.Tenant is null ? "" : $"; tenant {scope.Tenant}")}
        Frameworks: {string.Join(", ", scope.Frameworks)}
        Signed by audit key {Convert.ToHexStringLower(verifier.KeyId)} (manifest.sig over manifest.json).

        Verify it offline with the cluster's audit public key (obtained from the operator
        out of band, e.g. `forgeone audit public-key`), never with a key found in a package:

            forgeone evidence verify package.tar.gz --public-key audit-public.pem

        The verifier checks the manifest signature and key id, every file's SHA-256, that no
        file was added or removed, every seal's signature and the seal chain, every audit chain
        (audit/*.jsonl: the `stored` bytes are what the chain hashes) against the seals' heads and
        RFC 6962 tree roots, and prints a per-control summary (controls/*.json).

        """;
}

/// <summary>One line of <c>audit/{shard}.jsonl</c>: the stored bytes the verifier checks, and their readable form.</summary>
internal sealed record AuditLine(long Seq, DateTimeOffset Time, string Principal, string Action, string Resource, string Outcome, string? Subject, string Hash, string Stored)
{
    public static AuditLine Of(AuditEntry entry)
    {
        var r = entry.Record;
        return new AuditLine(r.Seq, r.Time, r.Principal, r.Action, r.Resource, r.Outcome.ToString(), entry.Subject, Convert.ToHexStringLower(r.Hash), Convert.ToBase64String(AuditRecordCodec.Encode(r)));
    }
}

/// <summary>One line of a category file: an audit record's readable fields, or an item from another source.</summary>
internal sealed record CategoryLine(string? Shard, long? Seq, DateTimeOffset? Time, string? Principal, string? Action, string? Resource, string? Outcome, string? Subject, string? Source, JsonNode? Record);

/// <summary>One line of <c>seals/seals.jsonl</c>.</summary>
internal sealed record SealLine(long Number, DateTimeOffset Time, int Format, string? KeyId, int Heads, string[] Failed, string[] NewIncarnations, string Encoded)
{
    public static SealLine Of(Seal s) =>
        new(s.Number, s.Time, s.Format, s.KeyIdHex, s.Heads.Count, [.. s.Failed.Select(f => $"{f.ShardId}: {f.Code}: {f.Reason}")], [.. s.NewIncarnations], Convert.ToBase64String(SealCodec.Encode(s)));
}

/// <summary>The seal verification result the exporter saw (the verifier recomputes it).</summary>
internal sealed record SealCheck(DateTimeOffset CheckedAt, int Seals, long? First, long? Last, bool Valid, string Result)
{
    public static SealCheck Run(IReadOnlyList<Seal> seals, SealVerifier verifier, DateTimeOffset now)
    {
        var result = SealChecks.VerifyRun(seals, verifier);
        return new SealCheck(now, seals.Count, seals.FirstOrDefault()?.Number, seals.LastOrDefault()?.Number, result.IsValid, result.Message);
    }
}

/// <summary>Verification of a run of consecutive seals that need not start at seal 1.</summary>
internal static class SealChecks
{
    public static SealVerification VerifyRun(IReadOnlyList<Seal> seals, SealVerifier verifier)
    {
        if (seals.Count == 0)
        {
            return new SealVerification(SealFailure.None, null, "no seals in the period");
        }

        // The first seal of the period anchors the rest: checked on its own, the others by link.
        var first = verifier.Verify(seals[0]);
        return first.IsValid ? verifier.VerifyHistory(seals.Skip(1), anchor: seals[0]) : first;
    }
}

/// <summary><c>controls/{framework}.json</c>: each control with its statement and the package files that evidence it.</summary>
internal sealed record ControlMapFile(string Framework, string Title, ControlMapEntry[] Controls)
{
    public static ControlMapFile Of(FrameworkMap map, IEnumerable<string> paths)
    {
        var all = paths.ToList();
        return new ControlMapFile(map.Framework, map.Title,
            [.. map.Controls.Select(c => new ControlMapEntry(c.Id, c.Legacy, c.Title, c.Statement, c.Evidence, [.. c.Evidence.SelectMany(e => FilesOf(e, all)).Distinct().Order(StringComparer.Ordinal)]))]);
    }

    public static IEnumerable<string> FilesOf(string category, IReadOnlyList<string> paths) => category switch
    {
        EvidenceCategories.Audit => paths.Where(p => p.StartsWith("audit/", StringComparison.Ordinal)),
        EvidenceCategories.Seals => paths.Where(p => p.StartsWith("seals/", StringComparison.Ordinal)),
        EvidenceCategories.Processing => paths.Where(p => p == EvidenceCategories.ProcessingPath),
        EvidenceCategories.Attachments => paths.Where(p => p.StartsWith("attachments/", StringComparison.Ordinal)),
        _ => EvidenceCategories.Find(category) is { } c ? paths.Where(p => p == c.Path) : [],
    };

    public string Markdown()
    {
        var text = new StringBuilder();
        text.Append("# ").Append(Title).Append("\n\n| control | 2013 | title | how ForgeOne meets it | evidence |\n| --- | --- | --- | --- | --- |\n");
        foreach (var c in Controls)
        {
            text.Append($"| {c.Id} | {c.Iso2013 ?? "-"} | {c.Title} | {c.Statement} | {string.Join(", ", c.Files)} |\n");
        }

        return text.ToString();
    }
}

/// <summary>One control in a package's control map.</summary>
internal sealed record ControlMapEntry(string Id, string? Iso2013, string Title, string Statement, string[] Evidence, string[] Files);

/// <summary>JSON settings for one-line records.</summary>
internal static class EvidenceJson
{
    public static readonly JsonSerializerOptions Lines = new(JsonSerializerDefaults.Web) { WriteIndented = false };
}
