using System.Buffers;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Cluster.Shards.Blobs;

/// <summary>Tuning of blob shards.</summary>
public sealed record BlobShardOptions
{
    /// <summary>Chunk size of an upload that does not choose one.</summary>
    public int DefaultChunkSize { get; init; } = BlobChunkCodec.DefaultChunkSize;

    /// <summary>An upload with no chunk for this long is abandoned and cleaned up.</summary>
    public TimeSpan AbandonAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a blob shard looks for abandoned uploads.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Most chunks one sweep deletes, so a sweep is a short transaction whatever the upload size.</summary>
    public int SweepBatchChunks { get; init; } = 256;

    /// <summary>Largest range one <see cref="ReadBlobRange"/> returns (a reply is held in memory).</summary>
    public int MaxRangeBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Largest page of a lookup.</summary>
    public int MaxPageSize { get; init; } = 1000;
}

/// <summary>
/// Blobs on a blob shard. Layout:
/// <code>
///   blob_metadata  id (8)                       -> Encrypt(StoredBlobMetadata)   name + metadata field-encrypted
///   blob_chunks    id (8) | chunk (4)           -> Encrypt(BlobChunkCodec frame) checksum inside, LZ4 when it shrinks
///   blob_index     'n' | token(name) (16) | id  -> empty     (completed blobs only)
///                  'c' | token(type) (16) | id  -> empty
///                  'u' | id                     -> Encrypt(BlobUpload)           uploads in flight
/// </code>
/// An upload's metadata is written when it begins in state Uploading, so readers (who see only
/// Complete) do not find it; completing flips the state and writes the index in one transaction.
/// A delete destroys the chunks and index entries and keeps the metadata as a tombstone.
/// A chunk is checksummed, compressed and encrypted by <see cref="Prepare"/> on the thread pool
/// (chunks of one upload in parallel); the shard's thread only extends the whole-blob checksum,
/// which needs the chunks in order, and writes the sealed bytes.
/// </summary>
public sealed partial class BlobShardHandler : IShardHandler, IShardMaintenance, IShardPreparation
{
    private readonly BlobUploadHashes _hashes = new();

    /// <summary>A handler with <paramref name="options"/> (defaults when null).</summary>
    public BlobShardHandler(BlobShardOptions? options = null)
    {
        Options = options ?? new BlobShardOptions();
        if (Options.DefaultChunkSize is < 1 or > BlobChunkCodec.MaxConfigurableChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"DefaultChunkSize must be 1..{BlobChunkCodec.MaxConfigurableChunkSize}.");
        }

        if (Options.SweepBatchChunks < 1 || Options.MaxRangeBytes < 1 || Options.MaxPageSize < 1 || Options.SweepInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Sweep batch, range, page size and sweep interval must be positive.");
        }
    }

    /// <summary>The tuning in force.</summary>
    public BlobShardOptions Options { get; }

    /// <summary>Whole-blob hash state of uploads in flight (exposed for tests).</summary>
    public BlobUploadHashes Hashes => _hashes;

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.Blobs;

    /// <inheritdoc />
    public TimeSpan MaintenanceInterval => Options.SweepInterval;

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, Principal principal, ShardContext context)
    {
        var limits = context.Limits;
        switch (operation)
        {
            case BeginBlobUpload begin:
                {
                    const string action = "blobs.begin_upload";
                    var resource = $"{context.ResourcePrefix}/upload";
                    var maxChunk = Math.Min(limits.MaxChunkBytes, BlobChunkCodec.MaxConfigurableChunkSize);
                    var error = ModelValidation.BlobStart(begin.Name, begin.ContentType, begin.Metadata, limits)
                        ?? (string.IsNullOrEmpty(begin.UploadKey) || begin.UploadKey.Length > 200 ? new ForgeOneError(ErrorCodes.InvalidArgument, "An upload key of 1..200 characters is required.") : null)
                        ?? (begin.ChunkSize < 0 || begin.ChunkSize > maxChunk ? new ForgeOneError(ErrorCodes.ChunkTooLarge, $"Chunk size must be 1..{maxChunk} bytes (0 = default); got {begin.ChunkSize}.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, null, action, resource, $"content_type={PrintableValue(begin.ContentType)}");
                }

            case PutBlobChunk put:
                {
                    const string action = "blobs.put_chunk";
                    var resource = $"{context.ResourcePrefix}/id:{put.BlobId}";
                    var error = OnThisShard(put.BlobId, context)
                        ?? (put.Data is null || put.Data.Length == 0 ? new ForgeOneError(ErrorCodes.InvalidChunk, "A chunk holds at least one byte.") : null)
                        ?? (put.Data!.Length > limits.MaxChunkBytes ? new ForgeOneError(ErrorCodes.ChunkTooLarge, $"A chunk is at most {limits.MaxChunkBytes} bytes; this one is {put.Data.Length}.") : null)
                        ?? (put.Index < 0 ? new ForgeOneError(ErrorCodes.InvalidChunk, $"Chunk index {put.Index} is negative.") : null)
                        ?? (put.Checksum is not null && put.Checksum.Length != BlobChunkCodec.ChecksumLength ? new ForgeOneError(ErrorCodes.InvalidChunk, $"A chunk checksum is a {BlobChunkCodec.ChecksumLength}-byte XXH3-128.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, put.BlobId, action, resource, $"chunk={put.Index} bytes={put.Data!.Length}");
                }

            case CompleteBlobUpload complete:
                {
                    const string action = "blobs.complete_upload";
                    var resource = $"{context.ResourcePrefix}/id:{complete.BlobId}";
                    var error = OnThisShard(complete.BlobId, context)
                        ?? (complete.Checksum is not (null or { Length: BlobHasher.ChecksumLength }) ? new ForgeOneError(ErrorCodes.InvalidArgument, $"The whole-blob checksum is a {BlobHasher.ChecksumLength}-byte XXH3-128.") : null)
                        ?? (complete.Size < 0 || complete.ChunkCount < 0 ? new ForgeOneError(ErrorCodes.InvalidArgument, "Size and chunk count are not negative.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, complete.BlobId, action, resource, $"size={complete.Size} chunks={complete.ChunkCount}");
                }

            case DeleteBlob delete:
                {
                    const string action = "blobs.delete";
                    var resource = $"{context.ResourcePrefix}/id:{delete.BlobId}";
                    var error = OnThisShard(delete.BlobId, context);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, delete.BlobId, action, resource);
                }

            case SweepAbandonedUploads sweep:
                {
                    const string action = "blobs.sweep_abandoned_uploads";
                    var resource = context.ResourcePrefix;
                    if (sweep.Shard != context.ShardNumber)
                    {
                        return Admission.Reject(action, resource, new ForgeOneError(ErrorCodes.StorageWrongShard, $"Sweep for shard {sweep.Shard} reached shard {context.ShardNumber}."));
                    }

                    // Maintenance, not data access: the node's own principal (or an admin) holds system:write.
                    return ShardAccess.Admit(context, principal, operation, new ResourceDescriptor("system"), action, resource, $"abandon_after={Options.AbandonAfter} batch={Options.SweepBatchChunks}");
                }

            case GetBlob get:
                return AdmitRead(
                    context,
                    principal,
                    operation, get.BlobId, "blobs.get", null);

            case ReadBlobChunk chunk:
                return AdmitRead(
                    context,
                    principal,
                    operation,
                    chunk.BlobId,
                    "blobs.read_chunk",
                    chunk.Index < 0 ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Chunk index {chunk.Index} is negative.") : null,
                    $"chunk={chunk.Index}");

            case ReadBlobRange range:
                return AdmitRead(
                    context,
                    principal,
                    operation,
                    range.BlobId,
                    "blobs.read_range",
                    range.Offset < 0 || range.Length < 0 || range.Length > Options.MaxRangeBytes
                        ? new ForgeOneError(ErrorCodes.InvalidArgument, $"A range has a non-negative offset and a length of 0..{Options.MaxRangeBytes} bytes.")
                        : null,
                    $"offset={range.Offset} length={range.Length}");

            case FindBlobs find:
                {
                    var action = find.By == BlobLookupKind.Name ? "blobs.find_by_name" : "blobs.find_by_content_type";
                    var resource = context.ResourcePrefix;
                    var error = find.Shard != context.ShardNumber
                        ? new ForgeOneError(ErrorCodes.StorageWrongShard, $"Lookup for shard {find.Shard} reached shard {context.ShardNumber}.")
                        : find.By switch
                        {
                            BlobLookupKind.Name => Validate.BlobName(find.Value, limits),
                            BlobLookupKind.ContentType => Validate.ContentType(find.Value, limits),
                            _ => new ForgeOneError(ErrorCodes.InvalidArgument, $"Lookup kind {(int)find.By} is unknown."),
                        }
                        ?? (find.Limit < 1 || find.Limit > Options.MaxPageSize ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{Options.MaxPageSize}.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, null, action, resource, $"limit={find.Limit}");
                }

            default:
                return Admission.Reject("blobs.unknown", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not a blob operation."));
        }
    }

    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context) =>
        command switch
        {
            BeginBlobUpload begin => Begin(txn, begin, principal, context),
            PreparedChunk prepared => PutChunk(txn, prepared, context),
            PutBlobChunk put => PutUnprepared(txn, put, context),
            CompleteBlobUpload complete => Complete(txn, complete, context),
            DeleteBlob delete => Delete(txn, delete, principal, context),
            SweepAbandonedUploads => Sweep(txn, context),
            _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not a blob command."),
        };

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) =>
        query switch
        {
            GetBlob get => new BlobFound(ToModel(LoadVisible(txn, get.BlobId, context), context, Readable(context, principal, get.BlobId))),
            ReadBlobChunk chunk => ReadChunk(txn, chunk, context),
            ReadBlobRange range => ReadRange(txn, range, context),
            FindBlobs find => Find(txn, find, principal, context),
            _ => new BlobFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not a blob query.")),
        };

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new BlobFailed(error);

    /// <inheritdoc />
    public bool NeedsPreparation(IShardCommand command) => command is PutBlobChunk;

    /// <inheritdoc />
    public IShardCommand Prepare(IShardCommand command, ShardContext context) => PrepareChunk((PutBlobChunk)command, context);

    /// <inheritdoc />
    public void Release(IShardCommand command)
    {
        if (command is PreparedChunk prepared)
        {
            ArrayPool<byte>.Shared.Return(prepared.Sealed);
        }
    }

    /// <summary>A chunk that skipped the actor's preparation stage (a caller driving the handler directly).</summary>
    private BlobChunkStored PutUnprepared(IWriteTransaction txn, PutBlobChunk put, ShardContext context)
    {
        var prepared = PrepareChunk(put, context);
        try
        {
            return PutChunk(txn, prepared, context);
        }
        finally
        {
            Release(prepared);
        }
    }

    /// <inheritdoc />
    public IShardCommand? MaintenanceCommand(IReadTransaction txn, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        foreach (var (key, value) in txn.Scan(Tables.BlobIndex, BlobUpload.KeyRangeStart, BlobUpload.KeyRangeEnd))
        {
            if (BlobUpload.Decode(context.Security.Decrypt(Tables.BlobIndex, key, value)).IsExpired(now, Options.AbandonAfter))
            {
                return new SweepAbandonedUploads(context.Security.NodeToken, context.ShardNumber);
            }
        }

        return null;
    }

    private static Admission AdmitRead(ShardContext context, Principal principal, IShardOperation operation, RecordId id, string action, ForgeOneError? error, string detail = "")
    {
        var resource = $"{context.ResourcePrefix}/id:{id}";
        error ??= OnThisShard(id, context);
        return error is not null
            ? Admission.Reject(action, resource, error)
            : Authorize(context, principal, operation, id, action, resource, detail);
    }

    private static ForgeOneError? OnThisShard(RecordId id, ShardContext context) =>
        id.Shard == context.ShardNumber
            ? null
            : new ForgeOneError(ErrorCodes.StorageWrongShard, $"Blob {id} belongs to shard {id.Shard}, not {context.ShardNumber}.");

    private static Admission Authorize(ShardContext context, Principal principal, IShardOperation operation, RecordId? id, string action, string resource, string detail = "") =>
        ShardAccess.Admit(context, principal, operation, BlobDescriptor(principal, id), action, resource, detail);

    private static ResourceDescriptor BlobDescriptor(Principal principal, RecordId? id) => new("blobs", principal.Tenant, id?.ToString());

    // Audit details are space-separated key=value pairs: a space inside a value would forge a pair.
    private static string PrintableValue(string? value) => Printable.Text(value).Replace(' ', '?');
}
