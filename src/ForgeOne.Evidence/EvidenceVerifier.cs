using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Evidence;

/// <summary>What a verification finding is about.</summary>
public enum EvidenceFindingKind
{
    /// <summary>A file cannot be read (not JSON, a record or seal that does not decode).</summary>
    Malformed,

    /// <summary>The manifest signature does not verify under the public key.</summary>
    BadSignature,

    /// <summary>The manifest was signed by another key than the one given.</summary>
    WrongKey,

    /// <summary>A file's bytes differ from its SHA-256 in the manifest.</summary>
    Altered,

    /// <summary>A file the manifest lists is not in the package.</summary>
    Missing,

    /// <summary>A file in the package is not in the manifest.</summary>
    Added,

    /// <summary>A seal's signature, its link to the previous seal, or a head fails.</summary>
    SealInvalid,

    /// <summary>An audit chain fails: a record modified, deleted, reordered, truncated below a sealed head, or not matching a sealed tree root.</summary>
    ChainInvalid,

    /// <summary>A record's readable fields differ from its stored bytes.</summary>
    ReadableMismatch,
}

/// <summary>One problem, naming the file.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Path">The file in the package.</param>
/// <param name="Message">A sentence for the auditor.</param>
public sealed record EvidenceFinding(EvidenceFindingKind Kind, string Path, string Message);

/// <summary>A control's verdict.</summary>
public enum ControlStatus
{
    /// <summary>Every file that evidences it verified.</summary>
    Verified,

    /// <summary>A file that evidences it failed (or the manifest did).</summary>
    Failed,

    /// <summary>The period holds no evidence file for it.</summary>
    NoEvidence,
}

/// <summary>One control's line in the summary.</summary>
public sealed record ControlResult(string Framework, string Id, string? Iso2013, string Title, ControlStatus Status, string[] Files, string Detail);

/// <summary>The outcome of verifying a package offline.</summary>
/// <param name="Manifest">The manifest, when it could be read.</param>
/// <param name="Findings">Every problem found (empty = verified).</param>
/// <param name="Controls">Per-control summary.</param>
/// <param name="Checks">What was checked, one line each (for the report).</param>
public sealed record EvidenceVerification(EvidenceManifest? Manifest, IReadOnlyList<EvidenceFinding> Findings, IReadOnlyList<ControlResult> Controls, IReadOnlyList<string> Checks)
{
    /// <summary>True when nothing was found.</summary>
    public bool IsValid => Findings.Count == 0;
}

/// <summary>
/// Verifies an evidence package with the audit public key and nothing else: the manifest's
/// signature and key id, every file against its SHA-256 (altered, missing, added files named),
/// the seals (signature, chain of links, heads not regressing), and every audit chain from its
/// stored bytes against the seals' heads and, for format-3 seals over a chain exported from its
/// first record, the RFC 6962 tree roots. A control is verified when all of its files are.
/// </summary>
public sealed class EvidenceVerifier(SealVerifier key)
{
    /// <summary>Reads and verifies a package file; a file that is not a package is <c>evidence.malformed</c>.</summary>
    public EvidenceVerification Verify(Stream package) => Verify(EvidencePackage.Read(package));

    /// <summary>Verifies a package's files.</summary>
    public EvidenceVerification Verify(IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var findings = new List<EvidenceFinding>();
        var checks = new List<string>();
        if (!files.TryGetValue(EvidencePackage.ManifestPath, out var manifestBytes) || Parse<EvidenceManifest>(manifestBytes) is not { Files: not null } manifest)
        {
            findings.Add(new(EvidenceFindingKind.Malformed, EvidencePackage.ManifestPath, "the package has no readable manifest.json"));
            return new EvidenceVerification(null, findings, [], checks);
        }

        var signatureOk = CheckSignature(files, manifestBytes, findings);
        checks.Add(signatureOk ? $"manifest signature verified (key {Convert.ToHexStringLower(key.KeyId)})" : "manifest signature FAILED");
        CheckFiles(files, manifest, findings);
        checks.Add($"{manifest.Files.Length} file hashes checked");
        var seals = CheckSeals(files, findings, checks);
        CheckChains(files, seals, findings, checks);
        var controls = Controls(files, findings, signatureOk);
        return new EvidenceVerification(manifest, findings, controls, checks);
    }

    private bool CheckSignature(IReadOnlyDictionary<string, byte[]> files, byte[] manifestBytes, List<EvidenceFinding> findings)
    {
        if (!files.TryGetValue(EvidencePackage.SignaturePath, out var sigBytes) || Parse<ManifestSignature>(sigBytes) is not { KeyId: not null, Signature: not null } sig)
        {
            findings.Add(new(EvidenceFindingKind.Malformed, EvidencePackage.SignaturePath, "the package has no readable manifest.sig"));
            return false;
        }

        if (!string.Equals(sig.KeyId, Convert.ToHexStringLower(key.KeyId), StringComparison.Ordinal))
        {
            findings.Add(new(EvidenceFindingKind.WrongKey, EvidencePackage.SignaturePath, $"the manifest was signed by key {sig.KeyId}, not by the given public key {Convert.ToHexStringLower(key.KeyId)}"));
            return false;
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(sig.Signature);
        }
        catch (FormatException)
        {
            signature = [];
        }

        if (sig.Algorithm != EvidencePackage.Algorithm || !key.VerifyEvidenceManifest(manifestBytes, signature))
        {
            findings.Add(new(EvidenceFindingKind.BadSignature, EvidencePackage.ManifestPath, "the manifest signature does not verify under the audit public key: manifest.json or manifest.sig was altered"));
            return false;
        }

        return true;
    }

    private static void CheckFiles(IReadOnlyDictionary<string, byte[]> files, EvidenceManifest manifest, List<EvidenceFinding> findings)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            if (file?.Path is null || !listed.Add(file.Path))
            {
                findings.Add(new(EvidenceFindingKind.Malformed, EvidencePackage.ManifestPath, $"the manifest lists '{file?.Path}' twice or without a path"));
                continue;
            }

            if (!files.TryGetValue(file.Path, out var bytes))
            {
                findings.Add(new(EvidenceFindingKind.Missing, file.Path, $"{file.Path} is listed in the manifest but not in the package: it was removed"));
            }
            else if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), file.Sha256, StringComparison.Ordinal) || bytes.Length != file.Size)
            {
                findings.Add(new(EvidenceFindingKind.Altered, file.Path, $"{file.Path} does not match its SHA-256 in the manifest: it was altered"));
            }
        }

        foreach (var path in files.Keys.Order(StringComparer.Ordinal))
        {
            if (path is not (EvidencePackage.ManifestPath or EvidencePackage.SignaturePath) && !listed.Contains(path))
            {
                findings.Add(new(EvidenceFindingKind.Added, path, $"{path} is not in the manifest: it was added"));
            }
        }
    }

    private List<Seal> CheckSeals(IReadOnlyDictionary<string, byte[]> files, List<EvidenceFinding> findings, List<string> checks)
    {
        var seals = new List<Seal>();
        if (!files.TryGetValue(EvidenceCategories.SealsPath, out var bytes))
        {
            return seals;
        }

        foreach (var (line, number) in Lines(bytes))
        {
            try
            {
                var sealLine = JsonSerializer.Deserialize<SealLine>(line, EvidenceJson.Lines) ?? throw new JsonException("null");
                seals.Add(SealCodec.Decode(Convert.FromBase64String(sealLine.Encoded)));
            }
            catch (Exception e) when (e is JsonException or FormatException or ForgeOneException or ArgumentNullException)
            {
                findings.Add(new(EvidenceFindingKind.Malformed, EvidenceCategories.SealsPath, $"line {number}: not a seal ({e.Message})"));
                return [];
            }
        }

        var result = SealChecks.VerifyRun(seals, key);
        if (!result.IsValid)
        {
            findings.Add(new(EvidenceFindingKind.SealInvalid, EvidenceCategories.SealsPath, $"{result.Failure}: {result.Message}"));
            return [];
        }

        checks.Add(seals.Count == 0 ? "no seals in the period" : $"{seals.Count} seals verified ({seals[0].Number}..{seals[^1].Number}): signatures, links, heads");
        return seals;
    }

    private static void CheckChains(IReadOnlyDictionary<string, byte[]> files, List<Seal> seals, List<EvidenceFinding> findings, List<string> checks)
    {
        var chained = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, bytes) in files.Where(f => f.Key.StartsWith("audit/", StringComparison.Ordinal) && f.Key.EndsWith(".jsonl", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var shard = path["audit/".Length..^".jsonl".Length];
            chained.Add(shard);
            var records = ReadAudit(path, bytes, findings);
            if (records is null)
            {
                continue;
            }

            if (records.Count == 0)
            {
                checks.Add($"{shard}: no records in the period");
                continue;
            }

            var heads = seals.Select(s => s.HeadOf(shard)).OfType<ChainHead>().ToList();
            var first = records[0].Record;
            var start = first.Seq == 1 ? AuditChain.Genesis(shard) : new ChainHead(shard, first.Seq - 1, first.PrevHash);
            var result = AuditVerifier.Verify(records.Select(r => r.Record), start, heads);
            if (!result.IsValid)
            {
                findings.Add(new(EvidenceFindingKind.ChainInvalid, path, $"{shard}: {result.Failure} at seq {result.FirstBadSeq}: {result.Message}"));
                continue;
            }

            var trees = first.Seq == 1 ? CheckTrees(shard, path, records, seals, findings) : 0;
            var sealedTo = heads.Count == 0 ? 0 : heads.Max(h => h.Seq);
            checks.Add($"{shard}: {records.Count} records {first.Seq}..{records[^1].Record.Seq} chained; sealed up to {sealedTo}{(trees > 0 ? $", {trees} tree roots matched" : "")}");
        }

        foreach (var seal in seals)
        {
            foreach (var head in seal.Heads.Where(h => !chained.Contains(h.ShardId)))
            {
                findings.Add(new(EvidenceFindingKind.ChainInvalid, $"audit/{head.ShardId}.jsonl", $"seal {seal.Number} covers shard {head.ShardId} but the package holds no chain for it"));
                chained.Add(head.ShardId);
            }
        }
    }

    // A chain exported from its first record rebuilds the shard's tree; each format-3 seal's root must match.
    private static int CheckTrees(string shard, string path, List<(AuditRecord Record, byte[] Stored)> records, List<Seal> seals, List<EvidenceFinding> findings)
    {
        var tree = new MerkleLog();
        foreach (var (_, stored) in records)
        {
            tree.Append(stored);
        }

        var matched = 0;
        foreach (var seal in seals.Where(s => s.Format == SealCodec.FormatV3))
        {
            for (var i = 0; i < seal.Heads.Count; i++)
            {
                var head = seal.Heads[i];
                if (head.ShardId != shard || head.Seq > tree.Count)
                {
                    continue;
                }

                if (!tree.Root(head.Seq).AsSpan().SequenceEqual(seal.TreeRoots[i]))
                {
                    findings.Add(new(EvidenceFindingKind.ChainInvalid, path, $"{shard}: records 1..{head.Seq} do not hash to the tree root seal {seal.Number} signed"));
                    return matched;
                }

                matched++;
            }
        }

        return matched;
    }

    private static List<(AuditRecord Record, byte[] Stored)>? ReadAudit(string path, byte[] bytes, List<EvidenceFinding> findings)
    {
        var records = new List<(AuditRecord, byte[])>();
        foreach (var (line, number) in Lines(bytes))
        {
            AuditLine? parsed;
            AuditRecord record;
            byte[] stored;
            try
            {
                parsed = JsonSerializer.Deserialize<AuditLine>(line, EvidenceJson.Lines) ?? throw new JsonException("null");
                stored = Convert.FromBase64String(parsed.Stored ?? throw new JsonException("no stored bytes"));
                record = AuditRecordCodec.Decode(stored);
            }
            catch (Exception e) when (e is JsonException or FormatException or ForgeOneException or ArgumentNullException)
            {
                findings.Add(new(EvidenceFindingKind.Malformed, path, $"line {number}: not an audit record ({e.Message})"));
                return null;
            }

            // The readable fields are for people: they must say what the stored bytes say.
            if (parsed.Seq != record.Seq || parsed.Time != record.Time || parsed.Principal != record.Principal || parsed.Action != record.Action
                || parsed.Resource != record.Resource || parsed.Outcome != record.Outcome.ToString() || parsed.Hash != Convert.ToHexStringLower(record.Hash))
            {
                findings.Add(new(EvidenceFindingKind.ReadableMismatch, path, $"line {number}: the readable fields of record {record.Seq} differ from its stored bytes"));
            }

            records.Add((record, stored));
        }

        return records;
    }

    private static List<ControlResult> Controls(IReadOnlyDictionary<string, byte[]> files, List<EvidenceFinding> findings, bool signatureOk)
    {
        var bad = findings.GroupBy(f => f.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Kind, StringComparer.Ordinal);
        var results = new List<ControlResult>();
        foreach (var (path, bytes) in files.Where(f => f.Key.StartsWith("controls/", StringComparison.Ordinal) && f.Key.EndsWith(".json", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (Parse<ControlMapFile>(bytes) is not { Controls: not null } map)
            {
                findings.Add(new(EvidenceFindingKind.Malformed, path, $"{path} is not a control map"));
                continue;
            }

            foreach (var c in map.Controls)
            {
                var failed = (c.Files ?? []).Where(bad.ContainsKey).ToArray();
                var (status, detail) = !signatureOk || bad.ContainsKey(path)
                    ? (ControlStatus.Failed, "the manifest or this control map does not verify")
                    : failed.Length > 0
                        ? (ControlStatus.Failed, string.Join("; ", failed.Select(f => $"{f}: {bad[f]}")))
                        : (c.Files ?? []).Length == 0
                            ? (ControlStatus.NoEvidence, "no evidence file in this period")
                            : (ControlStatus.Verified, $"{c.Files!.Length} files verified");
                results.Add(new ControlResult(map.Framework, c.Id, c.Iso2013, c.Title, status, c.Files ?? [], detail));
            }
        }

        return results;
    }

    private static IEnumerable<(string Line, int Number)> Lines(byte[] bytes)
    {
        var number = 0;
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            number++;
            if (line.Length > 0)
            {
                yield return (line, number);
            }
        }
    }

    private static T? Parse<T>(byte[] bytes)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, EvidencePackage.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
