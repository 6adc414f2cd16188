using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>What a drill found in one restored shard.</summary>
/// <param name="Shard">The shard (<see cref="ShardRef.Name"/>).</param>
/// <param name="AuditSeq">Verified audit head sequence.</param>
/// <param name="AuditHash">Verified audit head hash (hex).</param>
/// <param name="Records">Records in the restored shard, equal to the manifest's (the restore checks it).</param>
/// <param name="Sampled">Records picked at random from its data tables.</param>
/// <param name="Decrypted">How many of them decrypted and authenticated.</param>
public sealed record DrillShard(string Shard, long AuditSeq, string AuditHash, long Records, int Sampled, int Decrypted);

/// <summary>
/// The evidence a DR drill leaves: what was restored from which region, how long it took
/// (RTO), how old the newest restorable data was (RPO), and what was verified. Stored as
/// <c>report.json</c> (this record), <c>report.md</c> (the same for people) and
/// <c>report.sig</c> (signature of report.json by the audit key) in every region.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Id">Drill id.</param>
/// <param name="Region">The region restored from (only its copies were used).</param>
/// <param name="StartedAt">When the drill started.</param>
/// <param name="FinishedAt">When restore and verification ended.</param>
/// <param name="ClusterId">The cluster.</param>
/// <param name="BackupId">The backup restored: the newest complete one the region holds.</param>
/// <param name="Chain">Backups applied, full first.</param>
/// <param name="BackupTakenAt">When the restored backup's oldest shard snapshot was taken.</param>
/// <param name="RtoSeconds">Recovery time: restoring and verifying everything.</param>
/// <param name="RpoSeconds">Recovery point: age of the newest restorable data when the drill started.</param>
/// <param name="Passed">True when every check passed.</param>
/// <param name="Failures">What failed, each naming file or shard.</param>
/// <param name="Warnings">Things that did not fail the drill.</param>
/// <param name="Shards">Per shard results.</param>
/// <param name="SampledByKind">Records decrypted per shard kind.</param>
/// <param name="BytesRead">Backup bytes read.</param>
/// <param name="SignedBy">Fingerprint of the audit key that signs the report.</param>
/// <param name="Node">The node that ran it.</param>
public sealed record DrillReport(
    string Format,
    string Id,
    string Region,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string ClusterId,
    string? BackupId,
    string[] Chain,
    DateTimeOffset? BackupTakenAt,
    double RtoSeconds,
    double? RpoSeconds,
    bool Passed,
    string[] Failures,
    string[] Warnings,
    DrillShard[] Shards,
    Dictionary<string, int> SampledByKind,
    long BytesRead,
    string SignedBy,
    string Node)
{
    /// <summary>The report format.</summary>
    public const string FormatName = "forgeone.drill/v1";

    /// <summary>The JSON bytes (what the signature covers).</summary>
    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJson.Default.DrillReport);

    /// <summary>Parses report bytes. Errors: <c>backup.manifest_invalid</c>.</summary>
    public static DrillReport Decode(ReadOnlySpan<byte> bytes, string label)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, ManifestJson.Default.DrillReport) is { Format: FormatName } report
                ? report
                : throw new JsonException("not a drill report");
        }
        catch (JsonException e)
        {
            throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} is not a {FormatName} report: {e.Message}");
        }
    }

    /// <summary>The report for people.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv, $"# DR drill {Id}: {(Passed ? "PASSED" : "FAILED")}");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | --- |");
        md.AppendLine(inv, $"| cluster | {ClusterId} |");
        md.AppendLine(inv, $"| region restored from | {Region} |");
        md.AppendLine(inv, $"| backup | {BackupId ?? "(none)"} (chain: {string.Join(" -> ", Chain)}) |");
        md.AppendLine(inv, $"| started / finished | {StartedAt:O} / {FinishedAt:O} |");
        md.AppendLine(inv, $"| RTO (restore + verify) | {RtoSeconds:F2} s |");
        md.AppendLine(inv, $"| RPO (age of newest restorable data) | {(RpoSeconds is { } rpo ? $"{rpo:F0} s" : "n/a")} |");
        md.AppendLine(inv, $"| backup bytes read | {BytesRead:N0} |");
        md.AppendLine(inv, $"| records decrypted by kind | {string.Join(", ", SampledByKind.Select(k => $"{k.Key} {k.Value}"))} |");
        md.AppendLine(inv, $"| ran on / signed by | {Node} / audit key {SignedBy} |");
        md.AppendLine();
        if (Failures.Length > 0)
        {
            md.AppendLine("## Failures");
            foreach (var failure in Failures)
            {
                md.AppendLine(inv, $"- {failure}");
            }

            md.AppendLine();
        }

        if (Warnings.Length > 0)
        {
            md.AppendLine("## Warnings");
            foreach (var warning in Warnings)
            {
                md.AppendLine(inv, $"- {warning}");
            }

            md.AppendLine();
        }

        md.AppendLine("## Shards");
        md.AppendLine();
        md.AppendLine("| shard | records (= manifest) | audit head | sampled / decrypted |");
        md.AppendLine("| --- | ---: | --- | ---: |");
        foreach (var shard in Shards)
        {
            md.AppendLine(inv, $"| {shard.Shard} | {shard.Records:N0} | {shard.AuditSeq}:{shard.AuditHash[..Math.Min(16, shard.AuditHash.Length)]} | {shard.Sampled} / {shard.Decrypted} |");
        }

        return md.ToString();
    }
}

/// <summary>
/// A DR drill: restores the newest complete backup that one region holds into a scratch
/// folder (never the live data root), verifies it as a restore does, decrypts a random sample
/// of records of every kind, measures RTO and RPO, removes the scratch folder, and signs the
/// report. A drill that fails still produces a (failed) report: that is evidence too.
/// </summary>
public static class Drill
{
    /// <summary>Records picked per shard.</summary>
    public const int SamplesPerShard = 16;

    /// <summary>The data tables records are sampled from, by kind (each holds AES-GCM records bound to store, table and key).</summary>
    public static IReadOnlyList<string> SampledTables(ShardKind kind) => kind switch
    {
        ShardKind.Logs => [Tables.Logs],
        ShardKind.Events => [Tables.Events, Tables.Topics],
        ShardKind.Blobs => [Tables.BlobMetadata, Tables.BlobChunks],
        ShardKind.System => [Tables.Metadata, Tables.Settings, Tables.Snapshots, Tables.Metrics],
        _ => [],
    };

    /// <summary>Runs a drill of <paramref name="region"/> and returns its report (not yet stored).</summary>
    public static DrillReport Run(string id, string region, string scratchRoot, BackupRepository repository, IKekProvider kek, AuditSigner signer, string clusterId, string node, TimeProvider time, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(signer);
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var scratch = Path.Combine(scratchRoot, id);
        var failures = new List<string>();
        var warnings = new List<string>();
        var shards = new List<DrillShard>();
        var byKind = new Dictionary<string, int>(StringComparer.Ordinal);
        string? backupId = null;
        string[] chainIds = [];
        DateTimeOffset? takenAt = null;
        long bytes = 0;
        double rto = 0;
        try
        {
            repository.Target(region);
            backupId = repository.ListBackups(region).LastOrDefault(candidate => IsRestorable(repository, candidate, region))
                ?? throw new ForgeOneException(ErrorCodes.BackupNotFound, $"region {region} holds no complete backup whose manifest verifies");
            var chain = repository.Chain(backupId, [region]);
            chainIds = [.. chain.Select(c => c.Manifest.Id)];
            takenAt = chain[^1].Manifest.Shards.Min(s => s.SnapshotAt);
            warnings.AddRange(chain.SelectMany(c => c.Problems));
            Directory.CreateDirectory(scratch);
            var restored = Restorer.RestoreInto(scratch, chain, repository, kek, [region], cancellation: cancellation);
            rto = stopwatch.Elapsed.TotalSeconds;
            bytes = restored.Bytes;
            warnings.AddRange(restored.Warnings);
            var manifest = chain[^1].Manifest;
            foreach (var shard in restored.Shards)
            {
                var (sampled, decrypted, problems) = Sample(scratch, shard.Shard, manifest, kek);
                failures.AddRange(problems);
                shards.Add(new DrillShard(shard.Shard.Name, shard.AuditSeq, shard.AuditHash, shard.Records, sampled, decrypted));
                var kind = shard.Shard.Kind.FolderName();
                byKind[kind] = byKind.GetValueOrDefault(kind) + decrypted;
            }

            foreach (var kind in manifest.Shards.Where(s => SampledTables(s.Ref.Kind).Any(t => s.Records.GetValueOrDefault(t) > 0)).Select(s => s.Kind).Distinct())
            {
                if (byKind.GetValueOrDefault(kind) == 0)
                {
                    failures.Add($"no record of kind {kind} could be decrypted although the backup holds some");
                }
            }
        }
        catch (ForgeOneException e)
        {
            failures.Add(e.Error.ToString());
            rto = stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        return new DrillReport(
            DrillReport.FormatName, id, region, started, time.GetUtcNow(), clusterId, backupId, chainIds, takenAt, rto,
            takenAt is { } t ? Math.Max(0, (started - t).TotalSeconds) : null, failures.Count == 0, [.. failures], [.. warnings],
            [.. shards], byKind, bytes, signer.PublicKeyFingerprint, node);
    }

    /// <summary>Stores a report in every region: report.json, report.md and report.sig, then makes the folder read-only.</summary>
    public static IReadOnlyList<string> Store(DrillReport report, IReadOnlyList<BackupTarget> targets, AuditSigner signer)
    {
        ArgumentNullException.ThrowIfNull(report);
        var json = report.Encode();
        var signature = DetachedSignature.Create(signer, json);
        var markdown = Encoding.UTF8.GetBytes(report.ToMarkdown());
        var stored = new List<string>();
        foreach (var target in targets)
        {
            try
            {
                var folder = BackupTarget.DrillFolder(report.Id);
                foreach (var (name, content) in new[] { ("report.json", json), ("report.md", markdown), ("report.sig", signature) })
                {
                    using var file = target.Begin($"{folder}/{name}");
                    file.Stream.Write(content);
                    file.Commit();
                }

                target.Seal(folder);
                stored.Add(target.Region);
            }
            catch (ForgeOneException) when (!target.Required)
            {
                // An optional region that cannot take the report is skipped.
            }
        }

        return stored;
    }

    /// <summary>Reads and verifies a stored report. Errors: <c>backup.not_found</c>, <c>backup.manifest_invalid</c>.</summary>
    public static DrillReport Load(string id, BackupRepository repository)
    {
        BackupRepository.ValidateId(id);
        var problems = new List<string>();
        foreach (var target in repository.Targets)
        {
            var folder = BackupTarget.DrillFolder(id);
            if (!target.Exists($"{folder}/report.json"))
            {
                continue;
            }

            var label = $"drill report {id} in region {target.Region}";
            try
            {
                var json = target.ReadAll($"{folder}/report.json");
                DetachedSignature.Verify(json, target.ReadAll($"{folder}/report.sig"), repository.PublicKeyPem, label);
                return DrillReport.Decode(json, label);
            }
            catch (ForgeOneException e) when (e.Code is ErrorCodes.BackupManifestInvalid or ErrorCodes.BackupFileMissing)
            {
                problems.Add(e.Error.Message);
            }
        }

        throw problems.Count > 0
            ? new ForgeOneException(ErrorCodes.BackupManifestInvalid, string.Join("; ", problems))
            : new ForgeOneException(ErrorCodes.BackupNotFound, $"no region holds drill report {id}");
    }

    private static bool IsRestorable(BackupRepository repository, string backupId, string region)
    {
        try
        {
            repository.Load(backupId, [region]);
            return true;
        }
        catch (ForgeOneException)
        {
            return false;
        }
    }

    private static (int Sampled, int Decrypted, List<string> Problems) Sample(string root, ShardRef shard, BackupManifest manifest, IKekProvider kek)
    {
        var problems = new List<string>();
        var count = shard.Kind == ShardKind.System ? 1 : manifest.ShardCounts[shard.Kind switch { ShardKind.Logs => 0, ShardKind.Events => 1, _ => 2 }];
        using var store = ShardStore.Open(new ShardStoreOptions(shard.DataRootUnder(root), shard.Kind, shard.Shard, count) { NoSync = true });
        return store.Read(txn =>
        {
            var ring = txn.Get(Tables.Keys, "keyring"u8);
            if (ring is null)
            {
                return (0, 0, problems);
            }

            using var cipher = new RecordCipher(Keyring.Load(ring, kek, shard.StoreId));
            var tables = SampledTables(shard.Kind).Where(t => txn.Count(t) > 0).ToList();
            int sampled = 0, decrypted = 0;
            for (var i = 0; i < SamplesPerShard && tables.Count > 0; i++)
            {
                var table = tables[i % tables.Count];
                var first = txn.Scan(table, [], [], limit: 1).First().Key;
                var start = RandomNumberGenerator.GetBytes(first.Length);
                var picked = txn.Scan(table, start, [], limit: 1).FirstOrDefault();
                if (picked.Key is null)
                {
                    picked = txn.Scan(table, [], [], limit: 1).First();
                }

                sampled++;
                try
                {
                    cipher.Decrypt(picked.Value, new RecordContext(shard.StoreId, table, picked.Key));
                    decrypted++;
                }
                catch (ForgeOneException e)
                {
                    problems.Add($"shard {shard} table {table} key {Convert.ToHexStringLower(picked.Key)}: {e.Error}");
                }
            }

            return (sampled, decrypted, problems);
        });
    }
}
