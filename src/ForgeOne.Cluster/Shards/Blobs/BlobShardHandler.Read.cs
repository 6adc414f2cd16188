using System.Buffers;
using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Cluster.Shards.Blobs;

/// <summary>Read side (get, chunk, range, lookup) and delete.</summary>
public sealed partial class BlobShardHandler
{
    private static readonly string RedactedName = $"[redacted:{FieldClass.BlobName.Name()}]";
    private static readonly IReadOnlyDictionary<string, string> RedactedMetadata =
        new Dictionary<string, string>(StringComparer.Ordinal) { [$"[redacted:{FieldClass.BlobMetadata.Name()}]"] = string.Empty };

    private static BlobDeleted Delete(IWriteTransaction txn, DeleteBlob delete, Principal principal, ShardContext context)
    {
        var id = delete.BlobId;
        var meta = LoadVisible(txn, id, context);
        var key = RecordKeys.Primary(id);
        var name = context.Security.RevealField(FieldClass.BlobName, Tables.BlobMetadata, key, meta.Name, FieldClasses.All)
            ?? throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Blob {id}: the name does not decrypt.");
        txn.Delete(Tables.BlobIndex, RecordKeys.BlobNameIndex(NameToken(context, Encoding.UTF8.GetString(name)), id));
        txn.Delete(Tables.BlobIndex, RecordKeys.BlobContentTypeIndex(ContentTypeToken(context, meta.ContentType), id));

        // One transaction for all chunks: a delete is all-or-nothing, and even a 2 GiB blob at
        // 1 MiB chunks is only ~2,000 key deletions.
        var destroyed = DeleteChunks(txn, id, int.MaxValue);
        var tombstone = meta with { State = BlobState.Deleted, DeletedAt = context.Time.GetUtcNow(), DeletedBy = principal.Id };
        txn.Put(Tables.BlobMetadata, key, context.Security.Encrypt(Tables.BlobMetadata, key, tombstone.Encode()));
        return new BlobDeleted(id, destroyed);
    }

    private static BlobChunkRead ReadChunk(IReadTransaction txn, ReadBlobChunk read, ShardContext context)
    {
        var meta = LoadVisible(txn, read.BlobId, context);
        if (read.Index >= meta.ChunkCount)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Blob {read.BlobId} has {meta.ChunkCount} chunks; there is no chunk {read.Index}.");
        }

        // The chunk's length is known from the metadata, so it is unpacked straight into the
        // reply's array (a codec bounded to exactly that length still refuses a bomb).
        var length = (int)ChunkLength(meta, read.Index);
        var plain = GC.AllocateUninitializedArray<byte>(length);
        ReadChunkInto(txn, meta, read.Index, new BlobChunkCodec(Math.Max(1, length)), plain, context);
        return new BlobChunkRead(read.BlobId, read.Index, plain, read.Index == meta.ChunkCount - 1);
    }

    private static long ChunkLength(StoredBlobMetadata meta, int index) =>
        index < meta.ChunkCount - 1 ? meta.ChunkSize : meta.Size - ((long)(meta.ChunkCount - 1) * meta.ChunkSize);

    private static BlobRangeRead ReadRange(IReadTransaction txn, ReadBlobRange read, ShardContext context)
    {
        var meta = LoadVisible(txn, read.BlobId, context);
        var range = BlobRange.Plan(read.Offset, read.Length, meta.Size, Math.Max(1, meta.ChunkSize));
        var result = new byte[range.Length];
        if (range.IsEmpty)
        {
            return new BlobRangeRead(read.BlobId, read.Offset, result);
        }

        var codec = new BlobChunkCodec(meta.ChunkSize);
        var plain = ArrayPool<byte>.Shared.Rent(meta.ChunkSize);
        try
        {
            var written = 0;
            for (var i = range.FirstChunk; i <= range.LastChunk; i++)
            {
                var n = ReadChunkInto(txn, meta, i, codec, plain, context);
                var skip = i == range.FirstChunk ? range.SkipInFirst : 0;
                var take = (int)Math.Min(n - skip, range.Length - written);
                plain.AsSpan(skip, take).CopyTo(result.AsSpan(written));
                written += take;
            }

            return new BlobRangeRead(read.BlobId, read.Offset, result);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    private BlobPage Find(IReadTransaction txn, FindBlobs find, Principal principal, ShardContext context)
    {
        var token = find.By == BlobLookupKind.Name ? NameToken(context, find.Value) : ContentTypeToken(context, find.Value);
        var prefix = find.By == BlobLookupKind.Name ? RecordKeys.BlobNameIndexPrefix(token) : RecordKeys.BlobContentTypeIndexPrefix(token);
        var macKey = ContinuationMacKey(context);

        // The token is bound to this exact index prefix: it cannot be replayed against another lookup.
        var from = find.Continuation is null ? prefix : Successor(ContinuationToken.Open(find.Continuation, macKey, prefix));
        if (!from.AsSpan().StartsWith(prefix))
        {
            throw new ForgeOneException(ErrorCodes.InvalidContinuationToken, "The continuation token is not from this lookup.");
        }

        var readable = Readable(context, principal, null);
        var keys = txn.Scan(Tables.BlobIndex, from, RecordKeys.PrefixEnd(prefix), limit: find.Limit + 1)
            .Select(kv => IndexEntries.Verify(context.Security, Tables.BlobIndex, kv.Key, kv.Value) ? kv.Key : throw IndexEntries.Tampered(context.Security, Tables.BlobIndex, kv.Key))
            .ToList();
        var blobs = new List<BlobMetadata>(Math.Min(keys.Count, find.Limit));
        var cursors = new List<string>(blobs.Capacity);
        foreach (var key in keys.Take(find.Limit))
        {
            var id = RecordKeys.ParseBlobIndex(key);
            var meta = LoadStored(txn, id, context);
            if (meta is { State: BlobState.Complete })
            {
                blobs.Add(ToModel(meta, context, readable));
                cursors.Add(ContinuationToken.Create(key, macKey, prefix));
            }
        }

        var more = keys.Count > find.Limit;
        var continuation = more ? ContinuationToken.Create(keys[find.Limit - 1], macKey, prefix) : null;
        return new BlobPage(context.ShardNumber, [.. blobs], continuation, [.. cursors]);
    }

    /// <summary>
    /// Decrypts, unpacks and verifies chunk <paramref name="index"/> into <paramref name="plain"/>.
    /// Whatever layer notices damage (the store's envelope checksum, the AES-GCM tag, the chunk's
    /// SHA-256, or a length that does not fit the blob), the caller gets
    /// <see cref="ErrorCodes.ChecksumMismatch"/>: a download fails loudly and never returns garbage.
    /// </summary>
    private static int ReadChunkInto(IReadTransaction txn, StoredBlobMetadata meta, int index, BlobChunkCodec codec, byte[] plain, ShardContext context)
    {
        var n = ReadChunkInto(txn, meta.Id, index, codec, plain, context);
        var expected = ChunkLength(meta, index);
        return n == expected
            ? n
            : throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Chunk {index} of blob {meta.Id} holds {n} bytes where the blob needs {expected}.");
    }

    private static int ReadChunkInto(IReadTransaction txn, RecordId id, int index, BlobChunkCodec codec, byte[] plain, ShardContext context)
    {
        var key = RecordKeys.BlobChunk(id, index);
        byte[]? frame = null;
        try
        {
            if (!txn.TryGet(Tables.BlobChunks, key, out var value))
            {
                throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Chunk {index} of blob {id} is missing.");
            }

            // Decrypted straight from the mapped file into a pooled frame buffer: a fresh array
            // per chunk would be a large-object allocation.
            frame = ArrayPool<byte>.Shared.Rent(Math.Max(1, value.Length));
            var n = context.Security.Decrypt(Tables.BlobChunks, key, value, frame);
            return codec.Unpack(frame.AsSpan(0, n), plain).Length;
        }
        catch (ForgeOneException e) when (e.Code is ErrorCodes.StorageCorruptRecord or ErrorCodes.CryptoTampered or ErrorCodes.StorageUnknownFormat)
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Chunk {index} of blob {id} is damaged ({e.Code}: {e.Message}).");
        }
        finally
        {
            if (frame is not null)
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    private static StoredBlobMetadata? LoadStored(IReadTransaction txn, RecordId id, ShardContext context)
    {
        var key = RecordKeys.Primary(id);
        var value = txn.Get(Tables.BlobMetadata, key);
        return value is null ? null : StoredBlobMetadata.Decode(context.Security.Decrypt(Tables.BlobMetadata, key, value));
    }

    /// <summary>A completed blob, else not found: uploads in flight and tombstones are invisible.</summary>
    private static StoredBlobMetadata LoadVisible(IReadTransaction txn, RecordId id, ShardContext context) =>
        LoadStored(txn, id, context) is { State: BlobState.Complete } meta
            ? meta
            : throw new ForgeOneException(ErrorCodes.NotFound, $"No blob {id}.");

    private static BlobMetadata ToModel(StoredBlobMetadata meta, ShardContext context, IReadOnlySet<FieldClass> readable)
    {
        var key = RecordKeys.Primary(meta.Id);
        var name = context.Security.RevealField(FieldClass.BlobName, Tables.BlobMetadata, key, meta.Name, readable);
        var metadata = context.Security.RevealField(FieldClass.BlobMetadata, Tables.BlobMetadata, key, meta.Metadata, readable);
        return new BlobMetadata(
            meta.Id,
            name is null ? RedactedName : Encoding.UTF8.GetString(name),
            meta.ContentType,
            meta.Size,
            meta.CreatedAt,
            meta.CreatedBy,
            meta.Checksum,
            meta.Encrypted,
            meta.Compressed,
            meta.ChunkCount,
            metadata is null ? RedactedMetadata : MetadataCodec.Decode(metadata));
    }

    /// <summary>The field classes the caller may read, from the same policy decision that admitted it.</summary>
    private static IReadOnlySet<FieldClass> Readable(ShardContext context, Principal principal, RecordId? id) =>
        context.Security.Authorize(principal, Permissions.BlobsRead, BlobDescriptor(principal, id)).ReadableFields;

    // Continuation tokens need a per-shard secret MAC key; the blind-index HMAC of a fixed label is
    // one (unpredictable without the shard's keys, stable across restarts) without widening
    // IShardSecurity.
    private static byte[] ContinuationMacKey(ShardContext context) => context.Security.BlindIndex("forgeone.blobs.continuation-mac-key");

    private static byte[] Successor(byte[] key)
    {
        var next = new byte[key.Length + 1];
        key.CopyTo(next, 0);
        return next;
    }
}
