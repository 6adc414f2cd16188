using System.IO.Hashing;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Client;

/// <summary>One page of a cluster-wide blob lookup; pass <paramref name="Continuation"/> back for the next (null: no more).</summary>
public sealed record BlobLookupPage(BlobMetadata[] Blobs, string? Continuation);

/// <summary>
/// Streams blobs to and from blob shards through the blob shard region (or anything that routes
/// <see cref="IShardMessage"/>s the same way); from an actor client:
/// <c>new BlobClient(client.Cluster.Region(ShardKind.Blobs), blobShardCount, client.Tokens)</c>. Memory is bounded by <c>window x chunk size</c>
/// whatever the blob size: an upload reads one chunk at a time from the source and keeps at most
/// <c>window</c> chunks unacknowledged; a download pulls chunk by chunk with at most
/// <c>window</c> requests outstanding.
/// </summary>
/// <remarks>
/// Chunks of one upload must reach the shard in order. They are all sent from the calling
/// flow in index order through one region, and Akka delivers messages between a pair of
/// nodes in send order, so a window greater than 1 keeps the order while letting the shard
/// group-commit several chunks per transaction.
/// <para>Faults (a node dies, a shard moves): every request but a delete is retried under the
/// <see cref="RetryPolicy"/>. An upload survives the death of its shard's node: the shard keeps
/// the upload's progress in its file, so when a chunk goes unanswered or is refused as
/// retryable, the client waits for the chunks in flight, sends the unacknowledged ones again
/// one at a time, in order (a chunk the shard already has is acknowledged again, nothing is
/// written twice), then goes on with the window. A completion whose reply was lost is
/// confirmed from the blob's metadata.</para>
/// </remarks>
public sealed class BlobClient
{
    /// <summary>Chunks or chunk requests in flight by default.</summary>
    public const int DefaultWindow = 4;

    private readonly IActorRef _region;
    private readonly int _shardCount;
    private readonly IPrincipalTokenSource _tokens;
    private readonly TimeSpan _timeout;
    private readonly int _window;
    private readonly RetryPolicy _retry;
    private readonly ClientStats _stats = new();
    private readonly RetryingSender _retrying;

    /// <summary>
    /// A client acting as the principal of <paramref name="tokens"/> against <paramref name="blobRegion"/> with
    /// <paramref name="shardCount"/> blob shards; <paramref name="timeout"/> bounds a delete (the one
    /// request that is not retried), <paramref name="retry"/> everything else (default <see cref="RetryPolicy.Default"/>).
    /// </summary>
    public BlobClient(IActorRef blobRegion, int shardCount, IPrincipalTokenSource tokens, TimeSpan? timeout = null, int window = DefaultWindow, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(blobRegion);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        _region = blobRegion;
        _shardCount = shardCount;
        _tokens = tokens;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        _window = window;
        _retry = retry ?? RetryPolicy.Default;
        _retrying = new RetryingSender(_retry, _stats);
    }

    /// <summary>What this client did so far (requests, attempts, retries).</summary>
    public ClientCounters Counters => _stats.Snapshot();

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
        var begin = new BeginBlobUpload(_tokens.Current, uploadKey ?? Guid.NewGuid().ToString("N"), name, contentType, metadata is null ? null : new Dictionary<string, string>(metadata), chunkSize);
        // Retried: a begin whose reply was lost leaves an empty upload behind that the shard's
        // abandoned-upload sweep removes.
        var started = await Ask<BlobUploadStarted>(begin, cancellationToken).ConfigureAwait(false);
        // At most window + 1 chunk buffers, reused: a buffer is free again once the shard has
        // acknowledged its chunk (the shard keeps no reference past its reply, and a remote
        // send has serialized it long before), so a large upload allocates nothing per chunk.
        var inFlight = new Queue<InFlightChunk>();
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
                await SettleOldestAsync(inFlight, free, cancellationToken).ConfigureAwait(false);
            }

            var put = new PutBlobChunk(_tokens.Current, started.BlobId, index++, data, XxHash128.Hash(data));
            inFlight.Enqueue(new InFlightChunk(put, buffer, Once(put, cancellationToken)));
            if (n < buffer.Length)
            {
                break;
            }
        }

        while (inFlight.Count > 0)
        {
            await SettleOldestAsync(inFlight, free, cancellationToken).ConfigureAwait(false);
        }

        var complete = new CompleteBlobUpload(_tokens.Current, started.BlobId, expectedChecksum, size, index);
        var reply = await Send(complete, cancellationToken).ConfigureAwait(false);
        if (reply is BlobFailed { Error.Code: ErrorCodes.NotFound })
        {
            // No upload in progress: an earlier attempt may have completed it and lost its reply.
            var found = await Send(new GetBlob(_tokens.Current, started.BlobId), cancellationToken).ConfigureAwait(false);
            if (found is BlobFound { Blob: var blob } && blob.Size == size && blob.ChunkCount == index && (expectedChecksum is null || blob.Checksum.AsSpan().SequenceEqual(expectedChecksum)))
            {
                return blob;
            }
        }

        return Expect<BlobUploadCompleted>(reply, complete).Blob;
    }

    /// <summary>A chunk sent and not yet acknowledged, with the buffer it was read into.</summary>
    private sealed record InFlightChunk(PutBlobChunk Put, byte[] Buffer, Task<object?> Reply);

    /// <summary>
    /// Waits for the oldest chunk in flight. Acknowledged: its buffer is free. Unanswered or
    /// refused as retryable or out of order (an earlier chunk was lost with a node): every chunk
    /// in flight is waited for, then each is sent again in order, one at a time, with retries.
    /// </summary>
    private async Task SettleOldestAsync(Queue<InFlightChunk> inFlight, Stack<byte[]> free, CancellationToken cancellationToken)
    {
        var oldest = inFlight.Peek();
        var reply = await oldest.Reply.ConfigureAwait(false);
        if (reply is BlobChunkStored)
        {
            free.Push(inFlight.Dequeue().Buffer);
            return;
        }

        if (reply is IFailureReply { Error: var error } && !RetryPolicy.IsRetryable(error.Code) && error.Code != ErrorCodes.InvalidChunk)
        {
            throw new ForgeOneException(error);
        }

        foreach (var chunk in inFlight)
        {
            await chunk.Reply.ConfigureAwait(false);
        }

        while (inFlight.Count > 0)
        {
            var chunk = inFlight.Dequeue();
            Expect<BlobChunkStored>(await Send(chunk.Put, cancellationToken).ConfigureAwait(false), chunk.Put);
            free.Push(chunk.Buffer);
        }
    }

    // One attempt within the attempt timeout; null when it went unanswered.
    private async Task<object?> Once(PutBlobChunk put, CancellationToken cancellationToken)
    {
        try
        {
            return await _region.Ask<object>(put, _retry.AttemptTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
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
        var meta = (await Ask<BlobFound>(new GetBlob(_tokens.Current, id), cancellationToken).ConfigureAwait(false)).Blob;
        using var hash = BlobHasher.For(meta.Checksum);
        var inFlight = new Queue<Task<BlobChunkRead>>();
        var next = 0;
        for (var i = 0; i < meta.ChunkCount; i++)
        {
            while (next < meta.ChunkCount && inFlight.Count < _window)
            {
                inFlight.Enqueue(Ask<BlobChunkRead>(new ReadBlobChunk(_tokens.Current, id, next++), cancellationToken));
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
        (await Ask<BlobRangeRead>(new ReadBlobRange(_tokens.Current, id, offset, length), cancellationToken).ConfigureAwait(false)).Data;

    /// <summary>A completed blob's metadata.</summary>
    public async Task<BlobMetadata> GetAsync(RecordId id, CancellationToken cancellationToken = default) =>
        (await Ask<BlobFound>(new GetBlob(_tokens.Current, id), cancellationToken).ConfigureAwait(false)).Blob;

    /// <summary>Deletes a blob (chunks destroyed, tombstone kept); returns the number of chunks destroyed. Sent once (a second delete of the same blob is refused).</summary>
    public async Task<int> DeleteAsync(RecordId id, CancellationToken cancellationToken = default)
    {
        var delete = new DeleteBlob(_tokens.Current, id);
        return Expect<BlobDeleted>(await _region.Ask<object>(delete, _timeout, cancellationToken).ConfigureAwait(false), delete).ChunksDestroyed;
    }

    /// <summary>
    /// One page of the blobs named (or typed) <paramref name="value"/> across every blob shard:
    /// each shard is asked for <paramref name="limit"/> after its own position, and the answers
    /// are merged in id order.
    /// </summary>
    public async Task<BlobLookupPage> FindAsync(BlobLookupKind by, string value, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var cursor = BlobLookupCursor.Parse(continuation, _shardCount);
        var asks = cursor.Pending().Select(p => Ask<BlobPage>(new FindBlobs(_tokens.Current, p.Shard, by, value, limit, p.Token), cancellationToken)).ToList();
        var pages = await Task.WhenAll(asks).ConfigureAwait(false);
        var (blobs, next) = cursor.Merge(pages, limit);
        return new BlobLookupPage(blobs, next.ToToken());
    }

    // Every blob request but a delete is safe to repeat: reads, a begin (an extra empty upload
    // is swept), a chunk (the same bytes again are acknowledged), a completion (confirmed above).
    private async Task<T> Ask<T>(IShardMessage message, CancellationToken cancellationToken) =>
        Expect<T>(await Send(message, cancellationToken).ConfigureAwait(false), message);

    private Task<object> Send(IShardMessage message, CancellationToken cancellationToken) =>
        _retrying.SendAsync(message.GetType().Name, left => _region.Ask<object>(message, left, cancellationToken), e => new BlobFailed(e), cancellationToken);

    private static T Expect<T>(object? reply, IShardMessage message) =>
        reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Unexpected reply {reply?.GetType().Name ?? "null"} to {message.GetType().Name}."),
        };
}
