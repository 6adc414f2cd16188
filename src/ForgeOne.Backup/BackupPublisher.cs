using System.Security.Cryptography;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>
/// Finishes a backup once every shard's file is written: builds the manifest (attaching to each
/// shard the last seal that covers its chain), signs it, writes it to every region, checks that
/// each region holds every file with the manifest's size and SHA-256, and makes the backup's
/// folder read-only. Only then is the backup complete.
/// </summary>
public static class BackupPublisher
{
    /// <summary>The manifest of a finished plan.</summary>
    public static BackupManifest BuildManifest(CatalogBackup plan, string clusterId, int[] shardCounts, IReadOnlyList<byte[]> seals, DateTimeOffset completedAt, IReadOnlyList<string> regions)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var missing = plan.Pending.ToList();
        if (missing.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.BackupIncomplete, $"backup {plan.Id} still lacks shards {string.Join(", ", missing.Take(10))}");
        }

        var decoded = seals.Select(s => (Seal: SealCodec.Decode(s), Encoded: s)).OrderByDescending(s => s.Seal.Number).ToList();
        var entries = plan.Shards.Order().Select(shard =>
        {
            var entry = plan.Done[shard].Entry;
            // Seals cover the default zone's chains (zone shards share store ids with them).
            var covering = shard.Zone is null
                ? decoded.FirstOrDefault(s => s.Seal.Heads.Any(h => h.ShardId == shard.StoreId && h.Seq <= entry.AuditSeq && h.Seq > 0))
                : default;
            return entry with { Seal = covering.Encoded is null ? null : Convert.ToBase64String(covering.Encoded) };
        }).ToArray();
        var kek = entries.Select(e => e.KekVersion).Where(v => v > 0).Append(BackupKey.KekVersionOf(Convert.FromBase64String(plan.WrappedKey))).Distinct().Order().ToArray();
        return new BackupManifest(
            BackupManifest.FormatName, plan.Id, plan.Type, plan.Parent, plan.Base, plan.StartedAt, completedAt, clusterId, plan.Incarnation, plan.DataVersion,
            shardCounts, BackupFile.Format, "lz4", "aes-256-gcm", plan.WrappedKey, kek, [.. regions], entries);
    }

    /// <summary>
    /// Writes and checks the manifest in every target. Returns the regions that hold the whole
    /// backup. Throws <c>backup.file_missing</c> / <c>backup.file_corrupt</c> naming region and
    /// file when a required region does not. <paramref name="rehash"/>: re-read every file and
    /// compare its SHA-256 (else sizes only; the hash was taken from the bytes written).
    /// </summary>
    public static IReadOnlyList<string> Publish(BackupManifest manifest, IReadOnlyList<BackupTarget> targets, AuditSigner signer, bool rehash)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var bytes = manifest.Encode();
        var signature = DetachedSignature.Create(signer, bytes);
        var held = new List<string>();
        foreach (var target in targets)
        {
            try
            {
                Check(manifest, target, rehash);
                var folder = BackupTarget.BackupFolder(manifest.Id);
                var referenced = manifest.Shards.Select(s => s.File).ToHashSet(StringComparer.Ordinal);
                target.DeleteFiles(target.Files(folder).Where(f => !referenced.Contains(f)));   // superseded attempts
                Write(target, BackupTarget.SignaturePath(manifest.Id), signature);
                Write(target, BackupTarget.ManifestPath(manifest.Id), bytes);
                target.Seal(folder);
                held.Add(target.Region);
            }
            catch (ForgeOneException) when (!target.Required)
            {
                // An optional region that lacks a file is simply not listed as holding the backup.
            }
        }

        return held;
    }

    /// <summary>
    /// Checks that <paramref name="target"/> holds every file of <paramref name="manifest"/>
    /// with its size (and SHA-256 when <paramref name="rehash"/>). Errors name region and file.
    /// </summary>
    public static void Check(BackupManifest manifest, BackupTarget target, bool rehash)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(target);
        foreach (var shard in manifest.Shards)
        {
            var length = target.Length(shard.File)
                ?? throw new ForgeOneException(ErrorCodes.BackupFileMissing, $"region {target.Region} lacks {shard.File} (shard {shard.Ref} of backup {manifest.Id})");
            if (length != shard.Size)
            {
                throw new ForgeOneException(ErrorCodes.BackupFileCorrupt, $"region {target.Region}'s {shard.File} is {length} bytes, the manifest says {shard.Size}");
            }

            if (rehash)
            {
                using var stream = target.OpenRead(shard.File);
                var (_, sha) = BackupFile.Digest(stream);
                if (!CryptographicOperations.FixedTimeEquals(sha, Hex.Parse(shard.Sha256, shard.File)))
                {
                    throw new ForgeOneException(ErrorCodes.BackupFileCorrupt, $"region {target.Region}'s {shard.File} has SHA-256 {Hex.Of(sha)}, the manifest says {shard.Sha256}");
                }
            }
        }
    }

    private static void Write(BackupTarget target, string relative, byte[] content)
    {
        using var file = target.Begin(relative);
        file.Stream.Write(content);
        file.Commit();
    }
}

/// <summary>
/// Runs a whole backup in one process over stores it holds open: the offline tool, the
/// benchmark and the engine's tests. The cluster does the same steps distributed: the
/// coordinator plans and publishes, each shard's owner runs <see cref="ShardBackup"/>.
/// </summary>
public static class InProcessBackup
{
    /// <summary>Backs up every store; <paramref name="parent"/> null makes a full backup.</summary>
    public static BackupManifest Run(
        IReadOnlyDictionary<ShardRef, IShardStore> stores,
        BackupManifest? parent,
        IKekProvider kek,
        AuditSigner signer,
        IReadOnlyList<BackupTarget> targets,
        string clusterId,
        int[] shardCounts,
        TimeProvider time,
        IReadOnlyList<byte[]>? seals = null,
        bool rehash = true,
        int maxParallel = 0)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var started = time.GetUtcNow();
        var id = BackupIds.New("b", started);
        var wrapped = BackupKey.CreateWrapped(kek, id);
        var type = parent is null ? BackupType.Full : BackupType.Incremental;
        var plan = BackupCatalog.Empty
            .Apply(new BackupStarted(started, id, type, parent?.Id, parent?.Base ?? id, "system", Convert.ToBase64String(wrapped),
                [.. targets.Select(t => t.Region)], [.. stores.Keys.Order()], DataRootLayout.BaseVersion, parent?.Incarnation ?? 1));
        var results = new System.Collections.Concurrent.ConcurrentBag<ShardBackedUp>();
        Parallel.ForEach(stores, new ParallelOptions { MaxDegreeOfParallelism = maxParallel > 0 ? maxParallel : Environment.ProcessorCount }, pair =>
        {
            var since = parent?.Find(pair.Key)?.TxnId ?? 0;
            var request = new ShardBackupRequest(id, 1, pair.Key, since, wrapped);
            var (entry, regions) = ShardBackup.Write(pair.Value, request, kek, targets, time, CancellationToken.None);
            results.Add(new ShardBackedUp(time.GetUtcNow(), id, 1, entry, [.. regions]));
        });
        foreach (var done in results)
        {
            plan = plan.Apply(done);
        }

        var regionsHolding = targets.Where(t => results.All(r => r.Regions.Contains(t.Region))).Select(t => t.Region).ToList();
        var manifest = BackupPublisher.BuildManifest(plan.Get(id), clusterId, shardCounts, seals ?? [], time.GetUtcNow(), regionsHolding);
        BackupPublisher.Publish(manifest, targets, signer, rehash);
        return manifest;
    }
}
