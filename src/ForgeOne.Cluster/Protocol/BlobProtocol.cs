using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Operations on blob shards. Blobs route by blob id: <see cref="BeginBlobUpload"/> goes to the
/// shard chosen by hashing a client-supplied upload key, that shard assigns the id (which
/// encodes the shard number), and every later message routes by the id's shard.
/// <code>
///   client                                  shard(id)
///   BeginBlobUpload(uploadKey, name, ...) --> BlobUploadStarted(id, chunkSize)
///   PutBlobChunk(id, 0, bytes)            --> BlobChunkStored(id, 0, size so far)
///   ...  (in order; a retry of a stored index with the same bytes is acknowledged again)
///   CompleteBlobUpload(id, xxh128, size)  --> BlobUploadCompleted(metadata)   (visible from here)
///   ReadBlobChunk(id, i) / ReadBlobRange  --> BlobChunkRead / BlobRangeRead   (pull: bounded memory)
/// </code>
/// Every failure reply is <see cref="BlobFailed"/>.
/// </summary>
public static class BlobProtocol
{
    /// <summary>What <see cref="FindBlobs"/> looks up.</summary>
    public enum BlobLookupKind
    {
        /// <summary>Exact blob name.</summary>
        Name = 0,

        /// <summary>Exact content type.</summary>
        ContentType = 1,
    }

    /// <summary>
    /// Starts an upload. Validated like <c>ModelValidation.BlobStart</c>. <paramref name="ChunkSize"/>
    /// 0 means the shard's default (1 MiB); every chunk but the last must be exactly this size.
    /// Reply: <see cref="BlobUploadStarted"/>. The upload is invisible until completed.
    /// </summary>
    public sealed record BeginBlobUpload(PrincipalToken Token, string UploadKey, string Name, string ContentType, Dictionary<string, string>? Metadata = null, int ChunkSize = 0) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => UploadKey;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Stores chunk <paramref name="Index"/>: the next one in order, or a retry of an already
    /// stored index with identical bytes (acknowledged, nothing written). <paramref name="Checksum"/>,
    /// when given, is the client's XXH3-128 of <paramref name="Data"/> (16 bytes, as
    /// <c>System.IO.Hashing.XxHash128.Hash</c> returns it) and is verified.
    /// Reply: <see cref="BlobChunkStored"/>.
    /// </summary>
    public sealed record PutBlobChunk(PrincipalToken Token, RecordId BlobId, int Index, byte[] Data, byte[]? Checksum = null) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>
    /// Completes an upload: <paramref name="Size"/> and <paramref name="ChunkCount"/> must match
    /// what the shard received, and <paramref name="Checksum"/>, when given, the XXH3-128 of the
    /// whole plaintext, checked against the one the shard computed (null: the shard's value is recorded as is).
    /// Reply: <see cref="BlobUploadCompleted"/>.
    /// </summary>
    public sealed record CompleteBlobUpload(PrincipalToken Token, RecordId BlobId, byte[]? Checksum, long Size, int ChunkCount) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>Destroys a blob's chunks and keeps an audited tombstone. Reply: <see cref="BlobDeleted"/>.</summary>
    public sealed record DeleteBlob(PrincipalToken Token, RecordId BlobId) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>
    /// Cleans up uploads with no activity for the shard's abandon timeout, deleting at most a
    /// bounded number of chunks per call. Sent by the shard to itself on a timer; also accepted
    /// from an admin. Reply: <see cref="AbandonedUploadsSwept"/>.
    /// </summary>
    public sealed record SweepAbandonedUploads(PrincipalToken Token, int Shard) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>Metadata of a completed blob. Reply: <see cref="BlobFound"/>.</summary>
    public sealed record GetBlob(PrincipalToken Token, RecordId BlobId) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>One chunk's plaintext, checksum verified. Reply: <see cref="BlobChunkRead"/>.</summary>
    public sealed record ReadBlobChunk(PrincipalToken Token, RecordId BlobId, int Index) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>
    /// Up to <paramref name="Length"/> bytes (at most the shard's max range, 8 MiB by default)
    /// from byte <paramref name="Offset"/>, reading only the chunks the range touches.
    /// Reply: <see cref="BlobRangeRead"/>.
    /// </summary>
    public sealed record ReadBlobRange(PrincipalToken Token, RecordId BlobId, long Offset, int Length) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => BlobId.Shard;
    }

    /// <summary>
    /// One page of the completed blobs of one shard whose name (or content type) equals
    /// <paramref name="Value"/>, in id order, after <paramref name="Continuation"/> (a token from
    /// this shard's previous page of the same lookup). Clients scatter this to every blob shard
    /// and merge (<c>BlobClient.FindAsync</c>). Reply: <see cref="BlobPage"/>.
    /// </summary>
    public sealed record FindBlobs(PrincipalToken Token, int Shard, BlobLookupKind By, string Value, int Limit = 100, string? Continuation = null) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Blobs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The upload was created (invisible until completed).</summary>
    public sealed record BlobUploadStarted(RecordId BlobId, int ChunkSize) : IReply;

    /// <summary>Chunk <paramref name="Index"/> is committed; <paramref name="Received"/> plaintext bytes are stored so far.</summary>
    public sealed record BlobChunkStored(RecordId BlobId, int Index, long Received) : IReply;

    /// <summary>The blob is committed and visible.</summary>
    public sealed record BlobUploadCompleted(BlobMetadata Blob) : IReply;

    /// <summary>A completed blob's metadata; name and metadata redacted when the caller may not read them.</summary>
    public sealed record BlobFound(BlobMetadata Blob) : IReply;

    /// <summary>One verified chunk; <paramref name="Last"/> for the blob's final chunk.</summary>
    public sealed record BlobChunkRead(RecordId BlobId, int Index, byte[] Data, bool Last) : IReply;

    /// <summary>Bytes of a range read (shorter than asked only at the blob's end).</summary>
    public sealed record BlobRangeRead(RecordId BlobId, long Offset, byte[] Data) : IReply;

    /// <summary>
    /// One shard's page of a lookup; <paramref name="Continuation"/> is null when the shard has no
    /// more. <paramref name="Cursors"/>[i] resumes right after <paramref name="Blobs"/>[i], so a
    /// client merging several shards can stop part-way through this page.
    /// </summary>
    public sealed record BlobPage(int Shard, BlobMetadata[] Blobs, string? Continuation, string[] Cursors) : IReply;

    /// <summary>The blob's chunks are destroyed; a tombstone remains.</summary>
    public sealed record BlobDeleted(RecordId BlobId, int ChunksDestroyed) : IReply;

    /// <summary>What a sweep did: uploads fully removed, and chunks deleted in this call.</summary>
    public sealed record AbandonedUploadsSwept(int Shard, int UploadsRemoved, int ChunksDeleted) : IReply, IAuditDetail
    {
        /// <inheritdoc />
        public string AuditDetail => $"uploads_removed={UploadsRemoved} chunks_deleted={ChunksDeleted}";
    }

    /// <summary>The operation failed or was refused; nothing was written.</summary>
    public sealed record BlobFailed(ForgeOneError Error) : IFailureReply;
}
