using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Cluster.Shards.Blobs;

/// <summary>Upload side: begin, chunks, complete, and the abandoned-upload sweep.</summary>
public sealed partial class BlobShardHandler
{
    private const string SweeperName = "system:upload-sweeper";

    private BlobUploadStarted Begin(IWriteTransaction txn, BeginBlobUpload begin, Principal principal, ShardContext context)
    {
        var id = context.Ids.Next();
        var key = RecordKeys.Primary(id);
        var now = context.Time.GetUtcNow();
        var chunkSize = begin.ChunkSize == 0 ? Math.Min(Options.DefaultChunkSize, context.Limits.MaxChunkBytes) : begin.ChunkSize;
        var security = context.Security;
        var stored = new StoredBlobMetadata(
            id,
            security.EncryptField(FieldClass.BlobName, Tables.BlobMetadata, key, Encoding.UTF8.GetBytes(begin.Name)),
            begin.ContentType,
            Size: 0,
            CreatedAt: now,
            CreatedBy: principal.Id,
            Checksum: [],
            Encrypted: true,
            Compressed: false,
            ChunkCount: 0,
            ChunkSize: chunkSize,
            security.EncryptField(FieldClass.BlobMetadata, Tables.BlobMetadata, key, MetadataCodec.Encode(begin.Metadata ?? [])),
            BlobState.Uploading,
            DeletedAt: null,
            DeletedBy: null);
        txn.Put(Tables.BlobMetadata, key, security.Encrypt(Tables.BlobMetadata, key, stored.Encode()));
        var upload = new BlobUpload(0, 0, 0, now, false, false, NameToken(context, begin.Name), ContentTypeToken(context, begin.ContentType));
        PutUpload(txn, id, upload, context);
        return new BlobUploadStarted(id, chunkSize);
    }

    /// <summary>
    /// Checksum, LZ4 when it shrinks the chunk, and encryption under the chunk's key: everything
    /// about a chunk that needs no store state, so it runs off the shard's thread. The sealed
    /// bytes live in a pooled buffer until <see cref="Release"/>.
    /// </summary>
    private static PreparedChunk PrepareChunk(PutBlobChunk put, ShardContext context)
    {
        var codec = new BlobChunkCodec(Math.Min(context.Limits.MaxChunkBytes, BlobChunkCodec.MaxConfigurableChunkSize));
        var frame = ArrayPool<byte>.Shared.Rent(BlobChunkCodec.MaxPackedLength(put.Data.Length));
        byte[]? sealedBuffer = null;
        try
        {
            var packed = codec.Pack(put.Data, frame);
            if (put.Checksum is not null && !CryptographicOperations.FixedTimeEquals(packed.Checksum, put.Checksum))
            {
                throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Chunk {put.Index} of blob {put.BlobId} does not match the checksum the client sent.");
            }

            // Encrypted straight into a storage envelope sealed here, so the shard's thread
            // stores it without another copy or checksum pass (IWriteTransaction.PutWrapped).
            var key = RecordKeys.BlobChunk(put.BlobId, put.Index);
            sealedBuffer = ArrayPool<byte>.Shared.Rent(RecordEnvelope.WrappedLength(RecordCipher.GetCiphertextLength(packed.Length)));
            var length = RecordEnvelope.HeaderSize + context.Security.Encrypt(Tables.BlobChunks, key, frame.AsSpan(0, packed.Length), sealedBuffer.AsSpan(RecordEnvelope.HeaderSize));
            RecordEnvelope.Seal(key, sealedBuffer.AsSpan(0, length));
            var prepared = new PreparedChunk(put, sealedBuffer, length, packed.Checksum, packed.Compressed);
            sealedBuffer = null;
            return prepared;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
            if (sealedBuffer is not null)
            {
                ArrayPool<byte>.Shared.Return(sealedBuffer);
            }
        }
    }

    private BlobChunkStored PutChunk(IWriteTransaction txn, PreparedChunk prepared, ShardContext context)
    {
        var put = prepared.Put;
        var id = put.BlobId;
        var (meta, upload) = LoadUploading(txn, id, context);
        if (put.Data.Length > meta.ChunkSize)
        {
            throw new ForgeOneException(ErrorCodes.ChunkTooLarge, $"Blob {id} uses {meta.ChunkSize}-byte chunks; chunk {put.Index} has {put.Data.Length} bytes.");
        }

        if (put.Index < upload.NextChunk)
        {
            // A retry (the ack was lost): accept it again if it is the same bytes, else refuse.
            var storedChecksum = StoredChunkChecksum(txn, id, put.Index, context);
            if (!CryptographicOperations.FixedTimeEquals(storedChecksum, prepared.Checksum))
            {
                throw new ForgeOneException(ErrorCodes.Conflict, $"Chunk {put.Index} of blob {id} is already stored with other content.");
            }

            return new BlobChunkStored(id, put.Index, upload.Received);
        }

        if (put.Index > upload.NextChunk)
        {
            throw new ForgeOneException(ErrorCodes.InvalidChunk, $"Chunks of blob {id} arrive in order: expected chunk {upload.NextChunk}, got {put.Index}.");
        }

        if (put.Index > 0 && upload.LastChunkLength != meta.ChunkSize)
        {
            throw new ForgeOneException(ErrorCodes.InvalidChunk, $"Chunk {put.Index - 1} of blob {id} was short ({upload.LastChunkLength} of {meta.ChunkSize} bytes): only the last chunk may be short.");
        }

        _hashes.Advance(id, upload.NextChunk, put.Data, hash => Rehash(txn, meta, upload.NextChunk, hash, context));
        txn.PutWrapped(Tables.BlobChunks, RecordKeys.BlobChunk(id, put.Index), prepared.Sealed.AsSpan(0, prepared.SealedLength));
        var next = upload with
        {
            NextChunk = put.Index + 1,
            Received = upload.Received + put.Data.Length,
            LastChunkLength = put.Data.Length,
            LastActivity = context.Time.GetUtcNow(),
            AnyCompressed = upload.AnyCompressed || prepared.Compressed,
        };
        PutUpload(txn, id, next, context);
        return new BlobChunkStored(id, put.Index, next.Received);
    }

    private BlobUploadCompleted Complete(IWriteTransaction txn, CompleteBlobUpload complete, ShardContext context)
    {
        var id = complete.BlobId;
        var (meta, upload) = LoadUploading(txn, id, context);
        if (complete.ChunkCount != upload.NextChunk || complete.Size != upload.Received)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Blob {id}: the shard received {upload.NextChunk} chunks / {upload.Received} bytes, the client says {complete.ChunkCount} / {complete.Size}.");
        }

        // The shard computes the whole-blob checksum itself; a client that sends one has it checked.
        var actual = _hashes.Current(id, upload.NextChunk, hash => Rehash(txn, meta, upload.NextChunk, hash, context));
        if (complete.Checksum is not null && !CryptographicOperations.FixedTimeEquals(actual, complete.Checksum))
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Blob {id} does not match the whole-blob checksum the client sent.");
        }

        var done = meta with
        {
            Size = upload.Received,
            Checksum = actual,
            Compressed = upload.AnyCompressed,
            ChunkCount = upload.NextChunk,
            State = BlobState.Complete,
        };
        var key = RecordKeys.Primary(id);
        txn.Put(Tables.BlobMetadata, key, context.Security.Encrypt(Tables.BlobMetadata, key, done.Encode()));
        txn.Delete(Tables.BlobIndex, BlobUpload.Key(id));
        IndexEntries.Put(txn, context.Security, Tables.BlobIndex, RecordKeys.BlobNameIndex(upload.NameToken, id), []);
        IndexEntries.Put(txn, context.Security, Tables.BlobIndex, RecordKeys.BlobContentTypeIndex(upload.ContentTypeToken, id), []);

        // Dropping the cached hash before the commit is safe: if the commit fails, a retried
        // completion rebuilds it from the committed chunks.
        _hashes.Forget(id);
        return new BlobUploadCompleted(ToModel(done, context, FieldClasses.All));
    }

    /// <summary>
    /// Removes abandoned uploads. The first sweep that finds one turns its metadata into a
    /// tombstone and flags the progress record (so a late chunk is refused), then each sweep
    /// deletes up to <see cref="BlobShardOptions.SweepBatchChunks"/> chunks; the progress record
    /// goes with the last chunk.
    /// </summary>
    private AbandonedUploadsSwept Sweep(IWriteTransaction txn, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        var budget = Options.SweepBatchChunks;
        var removed = 0;
        var deleted = 0;
        foreach (var (key, value) in txn.Scan(Tables.BlobIndex, BlobUpload.KeyRangeStart, BlobUpload.KeyRangeEnd))
        {
            if (budget == 0)
            {
                break;
            }

            var id = BlobUpload.ParseKey(key);
            var upload = BlobUpload.Decode(context.Security.Decrypt(Tables.BlobIndex, key, value));
            if (!upload.IsExpired(now, Options.AbandonAfter))
            {
                continue;
            }

            if (!upload.Abandoned)
            {
                var metaKey = RecordKeys.Primary(id);
                if (LoadStored(txn, id, context) is { } meta)
                {
                    var tombstone = meta with { State = BlobState.Deleted, DeletedAt = now, DeletedBy = SweeperName };
                    txn.Put(Tables.BlobMetadata, metaKey, context.Security.Encrypt(Tables.BlobMetadata, metaKey, tombstone.Encode()));
                }

                upload = upload with { Abandoned = true };
                _hashes.Forget(id);
            }

            var n = DeleteChunks(txn, id, budget);
            deleted += n;
            budget -= n;
            if (budget > 0)
            {
                // Fewer chunks than the budget were left: they are all gone.
                txn.Delete(Tables.BlobIndex, key);
                removed++;
            }
            else
            {
                PutUpload(txn, id, upload, context);
            }
        }

        return new AbandonedUploadsSwept(context.ShardNumber, removed, deleted);
    }

    /// <summary>Deletes up to <paramref name="max"/> chunks of <paramref name="id"/>, lowest first; returns how many.</summary>
    private static int DeleteChunks(IWriteTransaction txn, RecordId id, int max)
    {
        var keys = txn.Scan(Tables.BlobChunks, RecordKeys.BlobChunkPrefix(id), RecordKeys.PrefixEnd(RecordKeys.BlobChunkPrefix(id)), limit: max).Select(kv => kv.Key).ToList();
        foreach (var key in keys)
        {
            txn.Delete(Tables.BlobChunks, key);
        }

        return keys.Count;
    }

    private (StoredBlobMetadata Meta, BlobUpload Upload) LoadUploading(IReadTransaction txn, RecordId id, ShardContext context)
    {
        var meta = LoadStored(txn, id, context);
        var uploadKey = BlobUpload.Key(id);
        var raw = meta is { State: BlobState.Uploading } ? txn.Get(Tables.BlobIndex, uploadKey) : null;
        var upload = raw is null ? (BlobUpload?)null : BlobUpload.Decode(context.Security.Decrypt(Tables.BlobIndex, uploadKey, raw));
        if (meta is null || upload is null || upload.Value.Abandoned)
        {
            throw new ForgeOneException(ErrorCodes.NotFound, $"No upload {id} in progress (never begun, completed, or abandoned and cleaned up).");
        }

        return (meta, upload.Value);
    }

    private static void PutUpload(IWriteTransaction txn, RecordId id, BlobUpload upload, ShardContext context)
    {
        var key = BlobUpload.Key(id);
        txn.Put(Tables.BlobIndex, key, context.Security.Encrypt(Tables.BlobIndex, key, upload.Encode()));
    }

    /// <summary>Feeds the committed chunks [0, count) of an upload to <paramref name="hash"/> (cache miss: restart, hand-off, aborted commit).</summary>
    private static void Rehash(IReadTransaction txn, StoredBlobMetadata meta, int count, BlobHasher hash, ShardContext context)
    {
        var codec = new BlobChunkCodec(meta.ChunkSize);
        var plain = ArrayPool<byte>.Shared.Rent(meta.ChunkSize);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var n = ReadChunkInto(txn, meta.Id, i, codec, plain, context);
                hash.Append(plain.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    /// <summary>The plaintext checksum kept inside a stored chunk's frame (decrypts, does not decompress).</summary>
    private static byte[] StoredChunkChecksum(IReadTransaction txn, RecordId id, int index, ShardContext context)
    {
        var key = RecordKeys.BlobChunk(id, index);
        var value = txn.Get(Tables.BlobChunks, key) ?? throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Chunk {index} of blob {id} is missing.");
        try
        {
            return BlobChunkCodec.StoredChecksum(context.Security.Decrypt(Tables.BlobChunks, key, value));
        }
        catch (ForgeOneException e) when (e.Code is ErrorCodes.StorageCorruptRecord or ErrorCodes.StorageUnknownFormat)
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Chunk {index} of blob {id} is malformed ({e.Message}).");
        }
    }

    internal static byte[] NameToken(ShardContext context, string name) => Token(context, "blob-name\0" + name);

    internal static byte[] ContentTypeToken(ShardContext context, string contentType) => Token(context, "blob-content-type\0" + contentType);

    // The shard's blind index is keyed per shard; a purpose prefix keeps name, content-type and
    // topic tokens in separate spaces so equal strings of different kinds never share a token.
    private static byte[] Token(ShardContext context, string value)
    {
        var token = context.Security.BlindIndex(value);
        return token.Length == RecordKeys.TokenLength ? token : token.AsSpan(0, RecordKeys.TokenLength).ToArray();
    }

}
