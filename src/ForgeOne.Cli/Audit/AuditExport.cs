using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Security;

namespace ForgeOne.Cli.Audit;

/// <summary>
/// One chain of an export: its records are the file's lines, seq <paramref name="FirstSeq"/> to
/// <paramref name="LastSeq"/>; <paramref name="StartHash"/> is the hash the first record links to
/// (the chain's genesis hash when <paramref name="FirstSeq"/> is 1).
/// </summary>
public sealed record AuditExportChain(string Shard, string ChainId, string File, long FirstSeq, long LastSeq, string StartHash, long Records);

/// <summary>
/// What an export holds (<c>manifest.json</c>). The records of every chain are bounded by seal
/// <paramref name="Seal"/>: each exported record lies at or below that signed seal's head, so a
/// deleted, altered, reordered or truncated record is caught with only the public key.
/// </summary>
public sealed record AuditExportManifest(string Format, DateTimeOffset ExportedAt, string Source, DateTimeOffset? From, DateTimeOffset? To, long Seal, string PublicKeyFingerprint, AuditExportChain[] Chains);

/// <summary>One finding of an offline verification: where (a chain id, or <c>seals</c>), which record (seq) or seal, and what is wrong.</summary>
public sealed record AuditProblem(string Where, long? Seq, string Failure, string Message);

/// <summary>One chain's outcome.</summary>
public sealed record AuditChainResult(string ChainId, long Records, long FirstSeq, long LastSeq, bool Valid);

/// <summary>The outcome of <c>audit verify --offline</c>.</summary>
public sealed record OfflineAuditReport(bool Valid, string PublicKey, long Seals, long? BoundingSeal, AuditChainResult[] Chains, AuditProblem[] Problems);

/// <summary>Source-generated JSON of the export files and the offline report.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(AuditExportManifest))]
[JsonSerializable(typeof(OfflineAuditReport))]
internal sealed partial class AuditExportJsonContext : JsonSerializerContext;

/// <summary>
/// The audit export directory (docs/FORMATS.md "Audit export"): <c>manifest.json</c>,
/// <c>audit-public-key.pem</c>, <c>seals.jsonl</c> (each seal's signed encoding, oldest first) and
/// <c>chains/{chainId}.jsonl</c> (one audit record per line, in seq order: readable fields and the stored encoding).
/// </summary>
public static class AuditExportFormat
{
    /// <summary>The manifest's format tag.</summary>
    public const string Format = "forgeone.audit-export.v1";

    public const string ManifestFile = "manifest.json";

    public const string PublicKeyFile = "audit-public-key.pem";

    public const string SealsFile = "seals.jsonl";

    public const string ChainsFolder = "chains";

    /// <summary>A record as a line: the API's field names.</summary>
    public static string Line(AuditRecordView record) => JsonSerializer.Serialize(record, ApiJsonContext.Default.AuditRecordView);

    /// <summary>A seal line back to the signed structure (its stored encoding, whatever the seal format).</summary>
    public static Seal DecodeSeal(EncodedSealView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var seal = SealCodec.Decode(Convert.FromBase64String(view.Encoded));
        return seal.Number == view.Number ? seal : throw new FormatException($"the line says seal {view.Number} but its encoding is seal {seal.Number}");
    }

    /// <summary>
    /// A record line back to the hashed structure: the stored encoding decides (whatever the
    /// record format), and the readable fields must say the same, so editing either is caught.
    /// </summary>
    public static AuditRecord DecodeRecord(AuditRecordView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var r = AuditRecordCodec.Decode(Convert.FromBase64String(view.Encoded));
        var same = r.Seq == view.Seq && r.Time == view.Time && r.Principal == view.Principal && r.Action == view.Action && r.Resource == view.Resource
            && r.Outcome.ToString() == view.Outcome && Convert.ToHexStringLower(r.DetailHash) == view.DetailHash
            && Convert.ToHexStringLower(r.PrevHash) == view.PrevHash && Convert.ToHexStringLower(r.Hash) == view.Hash;
        return same ? r : throw new ReadableFieldsDifferException(view.Seq);
    }
}

/// <summary>A record line whose readable fields do not match its stored encoding.</summary>
public sealed class ReadableFieldsDifferException(long seq) : Exception($"record {seq}'s fields differ from its stored encoding: it was modified")
{
    /// <summary>The record's seq as the line states it.</summary>
    public long Seq { get; } = seq;
}

/// <summary>
/// Verifies an audit export with nothing but its files and the audit public key: the seal
/// history (signatures, numbering, links), then every chain against the genesis hash (or its
/// recorded start) and every sealed head of that chain. Each problem names the chain and the
/// record (seq) or seal at fault. Pure: no cluster, no network.
/// </summary>
public static class OfflineAuditVerifier
{
    /// <summary>Verifies the export in <paramref name="directory"/>; <paramref name="publicKeyPem"/> null: the key the export carries.</summary>
    public static OfflineAuditReport Verify(string directory, string? publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var problems = new List<AuditProblem>();
        var manifest = ReadManifest(directory);
        var keySource = publicKeyPem is null ? $"{AuditExportFormat.PublicKeyFile} from the export itself" : "the key given";
        var pem = publicKeyPem ?? File.ReadAllText(Path.Combine(directory, AuditExportFormat.PublicKeyFile));
        using var verifier = new SealVerifier(pem);

        var seals = ReadSeals(directory, problems);
        if (seals.Count == 0)
        {
            problems.Add(new AuditProblem("seals", null, "Missing", "the export holds no seal: nothing anchors its chains"));
        }
        else
        {
            // The first exported seal is verified alone (an export may start after seal 1), then the rest link to it.
            var first = verifier.Verify(seals[0]);
            var history = first.IsValid ? verifier.VerifyHistory(seals.Skip(1), anchor: seals[0]) : first;
            if (!history.IsValid)
            {
                problems.Add(new AuditProblem("seals", history.FirstBadNumber, history.Failure.ToString(), history.Message));
            }
        }

        var bounding = seals.LastOrDefault(s => s.Number == manifest.Seal);
        if (bounding is null && seals.Count > 0)
        {
            problems.Add(new AuditProblem("seals", manifest.Seal, "Missing", $"seal {manifest.Seal}, which the export says bounds its records, is not in {AuditExportFormat.SealsFile}"));
        }

        var results = new List<AuditChainResult>();
        foreach (var chain in manifest.Chains)
        {
            results.Add(VerifyChain(directory, chain, seals, problems));
        }

        // A full export holds every chain the bounding seal covers: a chain file removed with its manifest entry is caught here.
        if (bounding is not null && manifest.From is null && manifest.To is null)
        {
            foreach (var head in bounding.Heads.Where(h => h.Seq > 0 && manifest.Chains.All(c => c.ChainId != h.ShardId)))
            {
                problems.Add(new AuditProblem(head.ShardId, head.Seq, "Missing", $"chain {head.ShardId} is sealed up to record {head.Seq} in seal {bounding.Number} but is not in the export"));
            }
        }

        return new OfflineAuditReport(problems.Count == 0, keySource, seals.Count, bounding?.Number, [.. results], [.. problems]);
    }

    private static AuditChainResult VerifyChain(string directory, AuditExportChain chain, IReadOnlyList<Seal> seals, List<AuditProblem> problems)
    {
        var path = Path.GetFullPath(Path.Combine(directory, chain.File));
        if (!path.StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
        {
            problems.Add(new AuditProblem(chain.ChainId, null, "Missing", $"the chain file {chain.File} is missing"));
            return new AuditChainResult(chain.ChainId, 0, chain.FirstSeq, chain.LastSeq, false);
        }

        var records = new List<AuditRecord>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                records.Add(AuditExportFormat.DecodeRecord(JsonSerializer.Deserialize(line, ApiJsonContext.Default.AuditRecordView) ?? throw new FormatException("null")));
            }
            catch (ReadableFieldsDifferException e)
            {
                problems.Add(new AuditProblem(chain.ChainId, e.Seq, nameof(AuditFailure.Modified), $"{chain.ChainId}: {e.Message} ({chain.File} line {lineNumber})"));
                return new AuditChainResult(chain.ChainId, records.Count, chain.FirstSeq, chain.LastSeq, false);
            }
            catch (Exception e) when (e is JsonException or FormatException or ArgumentException or ForgeOneException)
            {
                problems.Add(new AuditProblem(chain.ChainId, null, "Malformed", $"{chain.File} line {lineNumber} is not an audit record: {e.Message}"));
                return new AuditChainResult(chain.ChainId, records.Count, chain.FirstSeq, chain.LastSeq, false);
            }
        }

        var start = chain.FirstSeq <= 1 ? AuditChain.Genesis(chain.ChainId) : new ChainHead(chain.ChainId, chain.FirstSeq - 1, Convert.FromHexString(chain.StartHash));
        var sealedHeads = seals.SelectMany(s => s.Heads).Where(h => h.ShardId == chain.ChainId && h.Seq > start.Seq && h.Seq <= chain.LastSeq).ToList();
        var result = AuditVerifier.Verify(records, start, sealedHeads);
        if (!result.IsValid)
        {
            problems.Add(new AuditProblem(chain.ChainId, result.FirstBadSeq, result.Failure.ToString(), $"{chain.ChainId}: {result.Message}"));
            return new AuditChainResult(chain.ChainId, records.Count, chain.FirstSeq, chain.LastSeq, false);
        }

        if (result.Head.Seq != chain.LastSeq)
        {
            problems.Add(new AuditProblem(chain.ChainId, result.Head.Seq + 1, nameof(AuditFailure.Truncated),
                $"{chain.ChainId}: the chain ends at record {result.Head.Seq.ToString(CultureInfo.InvariantCulture)} but the export holds records up to {chain.LastSeq.ToString(CultureInfo.InvariantCulture)}: records were cut off the end"));
            return new AuditChainResult(chain.ChainId, records.Count, chain.FirstSeq, chain.LastSeq, false);
        }

        return new AuditChainResult(chain.ChainId, records.Count, chain.FirstSeq, chain.LastSeq, true);
    }

    private static AuditExportManifest ReadManifest(string directory)
    {
        var path = Path.Combine(directory, AuditExportFormat.ManifestFile);
        if (!File.Exists(path))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{directory} is not an audit export: {AuditExportFormat.ManifestFile} is missing");
        }

        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), AuditExportJsonContext.Default.AuditExportManifest);
            return manifest is { Format: AuditExportFormat.Format, Chains: not null }
                ? manifest
                : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{path} is not a {AuditExportFormat.Format} manifest");
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{path} is not valid JSON: {e.Message}");
        }
    }

    private static List<Seal> ReadSeals(string directory, List<AuditProblem> problems)
    {
        var seals = new List<Seal>();
        var path = Path.Combine(directory, AuditExportFormat.SealsFile);
        if (!File.Exists(path))
        {
            return seals;
        }

        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                seals.Add(AuditExportFormat.DecodeSeal(JsonSerializer.Deserialize(line, ApiJsonContext.Default.EncodedSealView) ?? throw new FormatException("null")));
            }
            catch (Exception e) when (e is JsonException or FormatException or ArgumentException or ForgeOneException)
            {
                problems.Add(new AuditProblem("seals", null, "Malformed", $"{AuditExportFormat.SealsFile} line {lineNumber} is not a seal: {e.Message}"));
            }
        }

        return seals;
    }
}
