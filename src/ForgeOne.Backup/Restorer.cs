using System.Collections.Concurrent;
using System.Diagnostics;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>How one shard came back.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="AuditSeq">Its verified audit head sequence (equal to the manifest's).</param>
/// <param name="AuditHash">Its verified audit head hash (hex).</param>
/// <param name="Records">Total records (equal to the manifest's per table).</param>
/// <param name="Bytes">Backup bytes read for it.</param>
public sealed record ShardRestored(ShardRef Shard, long AuditSeq, string AuditHash, long Records, long Bytes);

/// <summary>The outcome of a restore into a folder: every shard rebuilt and verified.</summary>
/// <param name="Chain">Backup ids applied, full first.</param>
/// <param name="Shards">Each shard, verified.</param>
/// <param name="Warnings">Bad copies that were skipped in favour of another region, each naming file and region.</param>
/// <param name="Bytes">Backup bytes read.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record RestoreResult(IReadOnlyList<string> Chain, IReadOnlyList<ShardRestored> Shards, IReadOnlyList<string> Warnings, long Bytes, TimeSpan Elapsed);

/// <summary>Progress of a restore: files done of files in total, and bytes read.</summary>
public sealed record RestoreProgress(int FilesDone, int Files, long Bytes);

/// <summary>
/// Rebuilds the shards of a backup chain into a folder that is not live (a new data-root
/// version, or a drill's scratch folder) and verifies each one before anyone may switch to it:
/// every KEK version the manifests need is held, every file matches its manifest's size and
/// SHA-256 (a bad copy in one region is skipped for another region's), every shard opens and
/// passes the integrity check, its audit chain verifies from genesis up to exactly the head the
/// manifest recorded (and through the seal recorded with it), and its record counts equal the
/// manifest's. Any failure throws a typed error naming the file or shard; the caller then
/// abandons the folder, so nothing live ever changed.
/// </summary>
public static class Restorer
{
    /// <summary>Rebuilds and verifies every shard of <paramref name="chain"/> under <paramref name="destination"/>.</summary>
    public static RestoreResult RestoreInto(
        string destination,
        IReadOnlyList<VerifiedManifest> chain,
        BackupRepository repository,
        IKekProvider kek,
        IReadOnlyList<string>? regions = null,
        IProgress<RestoreProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(kek);
        if (chain.Count == 0)
        {
            throw new ArgumentException("an empty chain", nameof(chain));
        }

        var stopwatch = Stopwatch.StartNew();
        CheckKeys(chain, kek);
        var keys = chain.ToDictionary(c => c.Manifest.Id, c => BackupKey.Unwrap(kek, Convert.FromBase64String(c.Manifest.WrappedKey), c.Manifest.Id), StringComparer.Ordinal);
        var last = chain[^1].Manifest;
        var order = (regions ?? repository.Targets.Select(t => t.Region).ToList()).Select(repository.Target).ToList();
        var warnings = new ConcurrentQueue<string>();
        var results = new ConcurrentBag<ShardRestored>();
        var files = chain.Sum(c => c.Manifest.Shards.Length);
        var done = 0;
        long bytes = 0;
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount), CancellationToken = cancellation };
            Parallel.ForEach(last.Shards, parallel, entry =>
            {
                var shard = entry.Ref;
                var imagePath = Path.Combine(destination, shard.RelativePath);
                long shardBytes = 0;
                using (var image = PageImage.Create(imagePath))
                {
                    foreach (var link in chain)
                    {
                        var file = link.Manifest.Find(shard)
                            ?? throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"backup {link.Manifest.Id} holds no copy of shard {shard}");
                        shardBytes += ApplyFile(image, link.Manifest, file, keys[link.Manifest.Id], order, warnings, cancellation);
                        var now = Interlocked.Increment(ref done);
                        progress?.Report(new RestoreProgress(now, files, Interlocked.Add(ref bytes, file.Size)));
                    }

                    image.Complete();
                }

                results.Add(Verify(destination, shard, entry, last, kek, repository.PublicKeyPem, shardBytes));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The first shard's precise error is the one to report.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        finally
        {
            foreach (var key in keys.Values)
            {
                Array.Clear(key);
            }
        }

        return new RestoreResult([.. chain.Select(c => c.Manifest.Id)], [.. results.OrderBy(r => r.Shard)], [.. warnings], Interlocked.Read(ref bytes), stopwatch.Elapsed);
    }

    /// <summary>Throws <c>crypto.key_unavailable</c> naming every KEK version the chain needs that the keys directory lacks.</summary>
    public static void CheckKeys(IReadOnlyList<VerifiedManifest> chain, IKekProvider kek)
    {
        var missing = new List<string>();
        foreach (var manifest in chain.Select(c => c.Manifest))
        {
            var needed = manifest.KekVersions.Append(BackupKey.KekVersionOf(Convert.FromBase64String(manifest.WrappedKey))).Distinct().Order();
            foreach (var version in needed)
            {
                try
                {
                    kek.Get(version);
                }
                catch (ForgeOneException e) when (e.Code == ErrorCodes.CryptoKeyUnavailable)
                {
                    var users = manifest.Shards.Where(s => s.KekVersion == version).Select(s => s.Ref.Name).Take(5).ToList();
                    missing.Add($"KEK v{version} (backup {manifest.Id}{(users.Count > 0 ? ", shards " + string.Join(", ", users) : ", its data key")})");
                }
            }
        }

        if (missing.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable,
                $"the keys directory lacks key versions the backup needs: {string.Join("; ", missing.Distinct())}. Restore the keys from a key backup first; nothing was changed.");
        }
    }

    // One file onto the image, from the first region whose copy is sound. Re-applying a file
    // after a region's copy failed partway is safe: frames are absolute page writes, and every
    // byte applied so far was authenticated, so the other copy writes the same bytes again.
    private static long ApplyFile(PageImage image, BackupManifest manifest, ShardManifest file, byte[] key, IReadOnlyList<BackupTarget> regions, ConcurrentQueue<string> warnings, CancellationToken cancellation)
    {
        var expected = Hex.Parse(file.Sha256, $"SHA-256 of {file.File}");
        var problems = new List<string>();
        foreach (var target in regions)
        {
            cancellation.ThrowIfCancellationRequested();
            var length = target.Length(file.File);
            if (length is null)
            {
                problems.Add($"region {target.Region} has no copy");
                continue;
            }

            if (length != file.Size)
            {
                problems.Add($"region {target.Region}'s copy is {length} bytes, the manifest says {file.Size}");
                continue;
            }

            var label = $"{file.File} (region {target.Region})";
            try
            {
                using var stream = target.OpenRead(file.File);
                var begun = false;
                var (_, result) = BackupFile.Read(stream, key, label, (header, chunk) =>
                {
                    if (!begun)
                    {
                        CheckHeader(header, manifest, file, label);
                        image.BeginStream(header.PageSize, header.NextPage);
                        begun = true;
                    }

                    image.Write(chunk);
                });
                if (!result.Sha256.AsSpan().SequenceEqual(expected) || result.Size != file.Size)
                {
                    throw new ForgeOneException(ErrorCodes.BackupFileCorrupt, $"{label} has SHA-256 {Hex.Of(result.Sha256)}, the manifest says {file.Sha256}");
                }

                image.EndStream();
                if (problems.Count > 0)
                {
                    warnings.Enqueue($"{file.File}: {string.Join("; ", problems)}; used region {target.Region}");
                }

                return file.Size;
            }
            catch (ForgeOneException e) when (e.Code is ErrorCodes.BackupFileCorrupt or ErrorCodes.BackupFileMissing or ErrorCodes.StorageCorruptFile or ErrorCodes.StorageIo)
            {
                problems.Add(e.Error.Message);
                image.AbortStream();
            }
        }

        throw new ForgeOneException(
            problems.All(p => p.Contains("has no copy", StringComparison.Ordinal)) ? ErrorCodes.BackupFileMissing : ErrorCodes.BackupFileCorrupt,
            $"no region holds a sound copy of {file.File} (shard {file.Ref} of backup {manifest.Id}): {string.Join("; ", problems)}");
    }

    private static void CheckHeader(BackupFileHeader header, BackupManifest manifest, ShardManifest file, string label)
    {
        if (header.BackupId != manifest.Id || header.Name != file.Ref.Name || header.TxnId != file.TxnId || header.SinceTxnId != file.SinceTxnId
            || header.NextPage != file.NextPage || header.PageSize != file.PageSize)
        {
            throw new ForgeOneException(ErrorCodes.BackupFileCorrupt, $"{label} is the file of {header.Name} in backup {header.BackupId} at transaction {header.TxnId}, not what the manifest lists");
        }
    }

    private static ShardRestored Verify(string root, ShardRef shard, ShardManifest expected, BackupManifest manifest, IKekProvider kek, string publicKeyPem, long bytes)
    {
        string Fail(string what) => $"restored shard {shard} (backup {manifest.Id}) {what}";
        var count = shard.Kind == ShardKind.System ? 1 : manifest.ShardCounts[shard.Kind switch { ShardKind.Logs => 0, ShardKind.Events => 1, _ => 2 }];
        ShardStore store;
        try
        {
            store = ShardStore.Open(new ShardStoreOptions(shard.DataRootUnder(root), shard.Kind, shard.Shard, count));
        }
        catch (ForgeOneException e)
        {
            throw new ForgeOneException(ErrorCodes.BackupVerificationFailed, Fail($"does not open: {e.Error}"));
        }

        using (store)
        {
            var integrity = store.CheckIntegrity();
            if (!integrity.IsHealthy)
            {
                var first = integrity.Errors.FirstOrDefault();
                throw new ForgeOneException(ErrorCodes.BackupVerificationFailed, Fail($"fails its integrity check: {first?.Table} {first?.KeyHex} {first?.Code} {first?.Message}"));
            }

            var sealedHeads = new List<ChainHead>();
            if (expected.Seal is { } encoded)
            {
                var seal = SealCodec.Decode(Convert.FromBase64String(encoded));
                using var verifier = new SealVerifier(publicKeyPem);
                var check = verifier.Verify(seal);
                if (!check.IsValid)
                {
                    throw new ForgeOneException(ErrorCodes.BackupVerificationFailed, Fail($"carries seal {seal.Number}, which does not verify: {check.Message}"));
                }

                sealedHeads.AddRange(seal.Heads.Where(h => h.ShardId == shard.StoreId));
            }

            var (chain, records) = store.Read(txn =>
            {
                var audit = txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList();
                var counts = Tables.For(shard.Kind).ToDictionary(t => t, txn.Count, StringComparer.Ordinal);
                if (txn.Get(Tables.Keys, "keyring"u8) is { } ring)
                {
                    Keyring.Load(ring, kek, shard.StoreId); // the KEK unwraps it and it belongs to this shard
                }

                return (AuditVerifier.Verify(audit, shard.StoreId, sealedHeads), counts);
            });
            if (!chain.IsValid)
            {
                throw new ForgeOneException(ErrorCodes.AuditChainBroken, Fail($"has a broken audit chain: {chain.Message}"));
            }

            if (chain.Head.Seq != expected.AuditSeq || Hex.Of(chain.Head.Hash) != expected.AuditHash)
            {
                throw new ForgeOneException(ErrorCodes.BackupVerificationFailed, Fail($"ends its audit chain at {chain.Head.Seq}:{Hex.Of(chain.Head.Hash)}, the manifest recorded {expected.AuditSeq}:{expected.AuditHash}"));
            }

            // shard_meta and schema_history belong to the store: opening an older backup may
            // migrate it, which adds history rows that the backup could not have counted.
            foreach (var (table, n) in expected.Records.Where(r => !Tables.IsStoreManaged(r.Key)))
            {
                if (!records.TryGetValue(table, out var actual) || actual != n)
                {
                    throw new ForgeOneException(ErrorCodes.BackupVerificationFailed, Fail($"holds {actual} records in {table}, the manifest recorded {n}"));
                }
            }

            return new ShardRestored(shard, chain.Head.Seq, Hex.Of(chain.Head.Hash), records.Values.Sum(), bytes);
        }
    }
}
