using ForgeOne.Common;

namespace ForgeOne.Backup;

/// <summary>A manifest that verified under the cluster's audit key, with the region it was read from.</summary>
/// <param name="Manifest">The parsed manifest.</param>
/// <param name="Bytes">Its exact bytes (what the signature covers).</param>
/// <param name="Region">The region whose copy verified.</param>
/// <param name="Problems">What was wrong with other regions' copies (missing, modified, signed by another key).</param>
public sealed record VerifiedManifest(BackupManifest Manifest, byte[] Bytes, string Region, IReadOnlyList<string> Problems);

/// <summary>
/// The backups held by a set of region targets, trusted only through signed manifests. Every
/// read names the region and file it came from, so a bad copy is reported precisely and another
/// region's copy used instead.
/// </summary>
public sealed class BackupRepository
{
    private readonly string _publicKeyPem;

    /// <summary>Backups of <paramref name="targets"/>, checked against the audit public key <paramref name="publicKeyPem"/>.</summary>
    public BackupRepository(IReadOnlyList<BackupTarget> targets, string publicKeyPem)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentException.ThrowIfNullOrWhiteSpace(publicKeyPem);
        Targets = targets;
        _publicKeyPem = publicKeyPem;
    }

    /// <summary>The region targets.</summary>
    public IReadOnlyList<BackupTarget> Targets { get; }

    /// <summary>The audit public key manifests must verify under.</summary>
    public string PublicKeyPem => _publicKeyPem;

    /// <summary>The target of <paramref name="region"/>. Errors: <c>backup.no_targets</c>.</summary>
    public BackupTarget Target(string region) =>
        Targets.FirstOrDefault(t => t.Region == region)
            ?? throw new ForgeOneException(ErrorCodes.BackupNoTargets, $"region '{region}' is not a backup target (targets: {string.Join(", ", Targets.Select(t => t.Region))})");

    /// <summary>Ids of every backup with a manifest in any region (or only <paramref name="region"/>), oldest first.</summary>
    public IReadOnlyList<string> ListBackups(string? region = null) =>
        [.. (region is null ? Targets : [Target(region)]).SelectMany(t => t.List("backups", "manifest.json")).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The manifest of <paramref name="backupId"/> from the first region whose copy verifies (in
    /// <paramref name="regions"/> order, default: every target). Errors:
    /// <c>backup.not_found</c> (no region has it), <c>backup.manifest_invalid</c> (every copy found
    /// fails verification; each region's reason listed).
    /// </summary>
    public VerifiedManifest Load(string backupId, IReadOnlyList<string>? regions = null)
    {
        ValidateId(backupId);
        var problems = new List<string>();
        var found = false;
        foreach (var target in regions is null ? Targets : regions.Select(Target).ToList())
        {
            var path = BackupTarget.ManifestPath(backupId);
            if (!target.Exists(path))
            {
                problems.Add($"region {target.Region}: no manifest for {backupId}");
                continue;
            }

            found = true;
            var label = $"manifest of backup {backupId} in region {target.Region}";
            try
            {
                var bytes = target.ReadAll(path);
                var signature = target.Exists(BackupTarget.SignaturePath(backupId))
                    ? target.ReadAll(BackupTarget.SignaturePath(backupId))
                    : throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} has no signature (manifest.sig)");
                DetachedSignature.Verify(bytes, signature, _publicKeyPem, label);
                var manifest = BackupManifest.Decode(bytes, label);
                if (manifest.Id != backupId)
                {
                    throw new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"{label} describes backup {manifest.Id}: it was copied from another backup");
                }

                return new VerifiedManifest(manifest, bytes, target.Region, problems);
            }
            catch (ForgeOneException e) when (e.Code is ErrorCodes.BackupManifestInvalid or ErrorCodes.BackupFileMissing)
            {
                problems.Add(e.Error.Message);
            }
        }

        throw found
            ? new ForgeOneException(ErrorCodes.BackupManifestInvalid, $"no region holds a manifest of backup {backupId} that verifies: {string.Join("; ", problems)}")
            : new ForgeOneException(ErrorCodes.BackupNotFound, $"no region holds backup {backupId} ({string.Join(", ", Targets.Select(t => t.Region))})");
    }

    /// <summary>
    /// The chain that restores <paramref name="backupId"/>: its full backup first, each
    /// incremental after its parent. Every link is checked (the parent exists and verifies, it
    /// belongs to the same full, and each shard's incremental starts where its parent's
    /// snapshot ended). Errors: <c>backup.chain_broken</c> naming the missing or mismatched link.
    /// </summary>
    public IReadOnlyList<VerifiedManifest> Chain(string backupId, IReadOnlyList<string>? regions = null)
    {
        var chain = new List<VerifiedManifest> { Load(backupId, regions) };
        while (chain[0].Manifest is { Type: BackupType.Incremental } child)
        {
            if (child.Parent is null || chain.Count > 10_000)
            {
                throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"incremental backup {child.Id} names no parent");
            }

            VerifiedManifest parent;
            try
            {
                parent = Load(child.Parent, regions);
            }
            catch (ForgeOneException e) when (e.Code is ErrorCodes.BackupNotFound or ErrorCodes.BackupManifestInvalid)
            {
                throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"the chain of backup {backupId} is broken: parent {child.Parent} of {child.Id} cannot be read ({e.Error.Message})");
            }

            if (parent.Manifest.Base != child.Base || chain.Any(c => c.Manifest.Id == parent.Manifest.Id))
            {
                throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"the chain of backup {backupId} is broken: {child.Id} belongs to full {child.Base} but its parent {parent.Manifest.Id} to {parent.Manifest.Base}");
            }

            foreach (var shard in child.Shards)
            {
                var before = parent.Manifest.Find(shard.Ref);
                if (before is null || before.TxnId != shard.SinceTxnId)
                {
                    throw new ForgeOneException(ErrorCodes.BackupChainBroken,
                        $"the chain of backup {backupId} is broken at shard {shard.Ref}: {child.Id} continues from transaction {shard.SinceTxnId} but {parent.Manifest.Id} holds {(before is null ? "no copy of it" : $"transaction {before.TxnId}")}");
                }
            }

            chain.Insert(0, parent);
        }

        if (chain[0].Manifest.Base != chain[0].Manifest.Id || chain[0].Manifest.Shards.Any(s => s.SinceTxnId != 0))
        {
            throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"backup {chain[0].Manifest.Id} at the start of the chain of {backupId} is not a complete full backup");
        }

        return chain;
    }

    internal static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id.StartsWith('.'))
        {
            throw new ForgeOneException(ErrorCodes.InvalidId, $"'{id}' is not a backup id (1..100 of A-Z a-z 0-9 - _ .)");
        }
    }
}
