using System.Buffers;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Backup;

/// <summary>What the coordinator asks of one shard's owner.</summary>
/// <param name="BackupId">The backup.</param>
/// <param name="Attempt">1, 2, ...: a retry writes a new file name, so no attempt ever overwrites another's file.</param>
/// <param name="Shard">Which shard.</param>
/// <param name="SinceTxnId">The parent backup's snapshot of this shard (0: a full copy).</param>
/// <param name="WrappedKey">The backup's data key, wrapped by the KEK.</param>
/// <param name="ChunkSize">Plaintext chunk size of the file.</param>
public sealed record ShardBackupRequest(string BackupId, int Attempt, ShardRef Shard, ulong SinceTxnId, byte[] WrappedKey, int ChunkSize = BackupFile.DefaultChunkSize)
{
    /// <summary>The file's path in every region.</summary>
    public string FilePath => $"{BackupTarget.BackupFolder(BackupId)}/data/{Path.ChangeExtension(Shard.RelativePath, null).Replace(Path.DirectorySeparatorChar, '/')}.a{Attempt}.fob";
}

/// <summary>
/// Backs up one open shard: one read snapshot gives both the facts the manifest records
/// (record counts, audit head, keyring versions, schema) and the pages, which are compressed,
/// encrypted and hashed once and written to every region's target. Runs on the shard owner's
/// node (the only process that may hold the file open) while the shard keeps writing.
/// </summary>
public static class ShardBackup
{
    private static readonly byte[] KeyringKey = "keyring"u8.ToArray();

    /// <summary>
    /// Writes the file to every target and returns its manifest entry. A required region that
    /// fails fails the whole shard (nothing is published anywhere); an optional one is dropped
    /// and left out of <see cref="ShardManifest"/>'s regions. Errors are typed (storage.*,
    /// crypto.*, backup.*); cancellation (the shard handing off) throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static (ShardManifest Entry, IReadOnlyList<string> Regions) Write(IShardStore store, ShardBackupRequest request, IKekProvider kek, IReadOnlyList<BackupTarget> targets, TimeProvider time, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        if (targets.Count == 0)
        {
            throw new ForgeOneException(ErrorCodes.BackupNoTargets, "no backup targets are configured (ForgeOne:Backup:Targets)");
        }

        var dataKey = BackupKey.Unwrap(kek, request.WrappedKey, request.BackupId);
        try
        {
            return store.Snapshot(request.SinceTxnId, (reader, pages) => WriteSnapshot(reader, pages, request, dataKey, targets, time, cancellation));
        }
        finally
        {
            Array.Clear(dataKey);
        }
    }

    private static (ShardManifest, IReadOnlyList<string>) WriteSnapshot(IReadTransaction reader, SnapshotPages pages, ShardBackupRequest request, byte[] dataKey, IReadOnlyList<BackupTarget> targets, TimeProvider time, CancellationToken cancellation)
    {
        var shard = request.Shard;
        var snapshotAt = time.GetUtcNow();
        if (pages.TxnId < request.SinceTxnId)
        {
            // The file is older than the parent's snapshot: it was replaced (a restore) or the
            // chain is not this file's. An incremental over it would be garbage.
            throw new ForgeOneException(ErrorCodes.BackupChainBroken, $"{shard}: the shard file is at transaction {pages.TxnId}, before the parent backup's {request.SinceTxnId}; take a full backup");
        }

        var meta = reader.Get(Tables.ShardMeta, ShardMeta.Key) is { } m ? ShardMeta.Decode(m) : throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{shard} has no shard_meta record");
        var keyring = reader.Get(Tables.Keys, KeyringKey) is { } k ? Keyring.ReadInfo(k) : null;
        var records = Tables.For(shard.Kind).ToDictionary(t => t, reader.Count, StringComparer.Ordinal);
        var (auditSeq, auditHash) = reader.Last(Tables.Audit) is { } lastKey && reader.Get(Tables.Audit, lastKey) is { } last
            ? AuditRecordCodec.Decode(last) is var record ? (record.Seq, record.Hash) : default
            : (0L, AuditChain.Genesis(shard.StoreId).Hash);

        var header = new BackupFileHeader(request.BackupId, shard.Name, pages.PageSize, pages.TxnId, request.SinceTxnId, pages.NextPage, request.ChunkSize);
        var pending = new List<(BackupTarget Target, BackupTarget.PendingFile File, RegionStream Stream)>();
        try
        {
            foreach (var target in targets)
            {
                try
                {
                    var file = target.Begin(request.FilePath);
                    pending.Add((target, file, new RegionStream(file.Stream, target.Region, target.Required)));
                }
                catch (ForgeOneException) when (!target.Required)
                {
                    // An optional region that cannot take the file is left out, not fatal.
                }
            }

            BackupFileResult result;
            using (var writer = new BackupFileWriter(header, dataKey, [.. pending.Select(p => (Stream)p.Stream)]))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(request.ChunkSize);
                try
                {
                    int n;
                    while ((n = pages.Read(buffer.AsSpan(0, request.ChunkSize))) > 0)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        writer.Write(buffer.AsSpan(0, n));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                result = writer.Complete();
            }

            var published = new List<string>();
            foreach (var (target, file, stream) in pending)
            {
                if (stream.Failed is { } failure)
                {
                    if (target.Required)
                    {
                        throw failure;
                    }

                    continue;
                }

                file.Commit();
                published.Add(target.Region);
            }

            var entry = new ShardManifest(
                shard.Zone, shard.Kind.FolderName(), shard.Shard, request.FilePath, result.Size, Hex.Of(result.Sha256), result.PlainBytes,
                pages.PageSize, pages.TxnId, request.SinceTxnId, pages.NextPage, pages.PagesEmitted, snapshotAt,
                meta.SchemaVersion, meta.FormatVersion, keyring?.KekVersion ?? 0, [.. keyring?.Versions.Select(v => v.Version) ?? []],
                records, auditSeq, Hex.Of(auditHash), Seal: null);
            return (entry, published);
        }
        finally
        {
            foreach (var (_, file, _) in pending)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>One region's output: a failing optional region stops receiving bytes instead of failing the file.</summary>
    private sealed class RegionStream(Stream inner, string region, bool required) : Stream
    {
        public ForgeOneException? Failed { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Failed is not null)
            {
                return;
            }

            try
            {
                inner.Write(buffer);
            }
            catch (IOException e)
            {
                Failed = new ForgeOneException(ErrorCodes.StorageIo, $"region {region} could not be written: {e.Message}");
                if (required)
                {
                    throw Failed;
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
            if (Failed is null)
            {
                try
                {
                    if (inner is FileStream file)
                    {
                        file.Flush(flushToDisk: true);
                    }
                    else
                    {
                        inner.Flush();
                    }
                }
                catch (IOException e)
                {
                    Failed = new ForgeOneException(ErrorCodes.StorageIo, $"region {region} could not be flushed: {e.Message}");
                    if (required)
                    {
                        throw Failed;
                    }
                }
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
