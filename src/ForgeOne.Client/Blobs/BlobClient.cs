using System.IO.Hashing;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Client;

/// <summary>One page of a cluster-wide blob lookup; pass <paramref name="Continuation"/> back for the next (null: no more).</summary>
public sealed record BlobLookupPage(BlobMetadata[] Blobs, string? Continuation);

/// <summary>
/// Streams blobs to and from blob shards through the blob shard region (or anything that routes
/// <see cref="IShardMessage"/>s the same way); from an actor client:
/// <c>new BlobClient(client.Cluster.Region(ShardKind.Blobs), blobShardCount, caller)</c>. Memory is bounded by <c>window x chunk size</c>
/// whatever the blob size: an upload reads one chunk at a time from the source and keeps at most
/// <c>window</c> chunks unacknowledged; a download pulls chunk by chunk with at most
/// <c>window</c> requests outstanding.
/// </summary>
/// <remarks>
/// Chunks of one upload must reach the shard in order. They are all sent from the calling
/// flow in index order through one region, and Akka delivers messages between a pair of
/// nodes in send order, so a window greater than 1 keeps the order while letting the shard
/// group-commit several chunks per transaction.
/// </remarks>
public sealed class BlobClient
{
    /// <summary>Chunks or chunk requests in flight by default.</summary>
    public const int DefaultWindow = 4;

    private readonly IActorRef _region;
    private readonly int _shardCount;
    private readonly Caller _caller;
    private readonly TimeSpan _timeout;
    private readonly int _window;

    /// <summary>A client acting as <paramref name="caller"/> against <paramref name="blobRegion"/> with <paramref name="shardCount"/> blob shards.</summary>
    public BlobClient(IActorRef blobRegion, int shardCount, Caller caller, TimeSpan? timeout = null, int window = DefaultWindow)
    {
        ArgumentNullException.ThrowIfNull(blobRegion);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        _region = blobRegion;
        _shardCount = shardCount;
        _caller = caller;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _window = window;
    }

    /// <summary>
    /// Uploads <paramref name="source"/> to its end as one blob; returns the committed metadata,
    /// whose <c>Checksum</c> is the whole-blob XXH3-128 the shard computed over what it stored
    /// (<c>xxh128sum</c> of the file gives the same value). Each chunk carries its XXH3-128, which
    /// the shard verifies, so a chunk damaged on the way is refused; pass
    /// <paramref name="expectedChecksum"/> (when the caller already knows the file's XXH3-128) to
    /// have the whole blob checked too before it becomes visible.
    /// <paramref name="uploadKey"/> picks the shard (hashed); a random one spreads uploads.
    /// Throws <see cref="ForgeOneException"/> with the shard's error on any refusal.
    /// </summary>
    public async Task<BlobMetadata> UploadAsync(
        Stream source,
        string name,
        string contentType,
        IReadOnlyDictionary<string, string>? metadata = null,
        int chunkSize = 0,
        string? uploadKey = null,
        byte[]? expectedChecksum = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var begin = new BeginBlobUpload(_caller, uploadKey ?? Guid.NewGuid().ToString("N"), name, contentType, metadata is null ? null : new Dictionary<string, string>(metadata), chunkSize);
        var started = await Ask<BlobUploadStarted>(begin, cancellationToken).ConfigureAwait(false);
        // At most window + 1 chunk buffers, reused: a buffer is free again once the shard has
        // acknowledged its chunk (the shard keeps no reference past its reply, and a remote
        // send has serialized it long before), so a large upload allocates nothing per chunk.
        var inFlight = new Queue<(Task<BlobChunkStored> Ack, byte[] Buffer)>();
        var free = new Stack<byte[]>();
        long size = 0;
        var index = 0;
        while (true)
        {
            var buffer = free.Count > 0 ? free.Pop() : new byte[started.ChunkSize];
            var n = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            var data = n == buffer.Length ? buffer : buffer[..n];
            size += n;
            if (inFlight.Count >= _window)
            {
                var (ack, done) = inFlight.Dequeue();
                await ack.ConfigureAwait(false);
                free.Push(done);
            }

            inFlight.Enqueue((Ask<BlobChunkStored>(new PutBlobChunk(_caller, started.BlobId, index++, data, XxHash128.Hash(data)), cancellationToken), buffer));
            if (n < buffer.Length)
            {
                break;
            }
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue().Ack.ConfigureAwait(false);
        }

        var completed = await Ask<BlobUploadCompleted>(new CompleteBlobUpload(_caller, started.BlobId, expectedChecksum, size, index), cancellationToken).ConfigureAwait(false);
        return completed.Blob;
    }

    /// <summary>
    /// Writes blob <paramref name="id"/> to <paramref name="destination"/>. Every chunk is verified
    /// by the shard, and the whole-blob checksum here; a mismatch throws
    /// <see cref="ForgeOneException"/> with <see cref="ErrorCodes.ChecksumMismatch"/> (the bytes
    /// already written must then be discarded by the caller).
    /// </summary>
    public async Task<BlobMetadata> DownloadAsync(RecordId id, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var meta = (await Ask<BlobFound>(new GetBlob(_caller, id), cancellationToken).ConfigureAwait(false)).Blob;
        using var hash = BlobHasher.For(meta.Checksum);
        var inFlight = new Queue<Task<BlobChunkRead>>();
        var next = 0;
        for (var i = 0; i < meta.ChunkCount; i++)
        {
            while (next < meta.ChunkCount && inFlight.Count < _window)
            {
                inFlight.Enqueue(Ask<BlobChunkRead>(new ReadBlobChunk(_caller, id, next++), cancellationToken));
            }

            var chunk = await inFlight.Dequeue().ConfigureAwait(false);
            hash.Append(chunk.Data);
            await destination.WriteAsync(chunk.Data, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            hash.Verify(meta.Checksum);
        }
        catch (ForgeOneException e) when (e.Code == ErrorCodes.ChecksumMismatch)
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Blob {id} does not match its whole-blob checksum.");
        }

        return meta;
    }

    /// <summary>Up to <paramref name="length"/> bytes from <paramref name="offset"/> (one request; the shard bounds the length).</summary>
    public async Task<byte[]> ReadRangeAsync(RecordId id, long offset, int length, CancellationToken cancellationToken = default) =>
        (await Ask<BlobRangeRead>(new ReadBlobRange(_caller, id, offset, length), cancellationToken).ConfigureAwait(false)).Data;

    /// <summary>A completed blob's metadata.</summary>
    public async Task<BlobMetadata> GetAsync(RecordId id, CancellationToken cancellationToken = default) =>
        (await Ask<BlobFound>(new GetBlob(_caller, id), cancellationToken).ConfigureAwait(false)).Blob;

    /// <summary>Deletes a blob (chunks destroyed, tombstone kept); returns the number of chunks destroyed.</summary>
    public async Task<int> DeleteAsync(RecordId id, CancellationToken cancellationToken = default) =>
        (await Ask<BlobDeleted>(new DeleteBlob(_caller, id), cancellationToken).ConfigureAwait(false)).ChunksDestroyed;

    /// <summary>
    /// One page of the blobs named (or typed) <paramref name="value"/> across every blob shard:
    /// each shard is asked for <paramref name="limit"/> after its own position, and the answers
    /// are merged in id order.
    /// </summary>
    public async Task<BlobLookupPage> FindAsync(BlobLookupKind by, string value, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var cursor = BlobLookupCursor.Parse(continuation, _shardCount);
        var asks = cursor.Pending().Select(p => Ask<BlobPage>(new FindBlobs(_caller, p.Shard, by, value, limit, p.Token), cancellationToken)).ToList();
        var pages = await Task.WhenAll(asks).ConfigureAwait(false);
        var (blobs, next) = cursor.Merge(pages, limit);
        return new BlobLookupPage(blobs, next.ToToken());
    }

    private async Task<T> Ask<T>(IShardMessage message, CancellationToken cancellationToken)
    {
        var reply = await _region.Ask<object>(message, _timeout, cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Unexpected reply {reply?.GetType().Name ?? "null"} to {message.GetType().Name}."),
        };
    }
}
