using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using Microsoft.Extensions.Time.Testing;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Cluster.Tests.Blobs;

/// <summary>Blob shards through the shard actor (no cluster): upload, download, ranges, lookup, delete, cleanup, security.</summary>
public sealed class BlobShardSpec : TestKit, IDisposable
{
    private const int Shards = 3;
    private const int Chunk = 4096;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private static readonly PrincipalToken Auditor = TestAuth.Token("audrey", ["auditor"], "acme", ["*"], 0);
    private readonly TempRoot _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public BlobShardSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "blob-shard-spec")
    {
    }

    private sealed record Node(ShardHost Host, BlobShardHandler Handler, IActorRef Region);

    /// <summary>
    /// The blob handler with its thread-pool preparations held until a preparation runs on
    /// another thread (the shard actor's own, at hand-off), which releases them.
    /// </summary>
    private sealed class HeldPreparations(BlobShardHandler inner) : IShardHandler, IShardMaintenance, IShardPreparation
    {
        private readonly ManualResetEventSlim _release = new();
        private int _inline;

        public BlobShardHandler Inner => inner;

        public int PreparedInline => Volatile.Read(ref _inline);

        public ShardKind Kind => inner.Kind;

        public TimeSpan MaintenanceInterval => inner.MaintenanceInterval;

        public Admission Admit(IShardOperation operation, Principal principal, ShardContext context) => inner.Admit(operation, principal, context);

        public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context) => inner.Apply(txn, command, principal, context);

        public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) => inner.Read(txn, query, principal, context);

        public object Fail(ForgeOneError error) => inner.Fail(error);

        public IShardCommand? MaintenanceCommand(IReadTransaction txn, ShardContext context) => inner.MaintenanceCommand(txn, context);

        public bool NeedsPreparation(IShardCommand command) => inner.NeedsPreparation(command);

        public IShardCommand Prepare(IShardCommand command, ShardContext context)
        {
            if (Thread.CurrentThread.IsThreadPoolThread)
            {
                _release.Wait(TimeSpan.FromSeconds(30));
            }
            else
            {
                Interlocked.Increment(ref _inline);
                _release.Set();
            }

            return inner.Prepare(command, context);
        }

        public void Release(IShardCommand command) => inner.Release(command);
    }

    private Node Start(BlobShardOptions? options = null, Limits? limits = null)
    {
        var handler = new BlobShardHandler(options ?? new BlobShardOptions { SweepInterval = TimeSpan.FromHours(1) });
        var host = BlobHosts.Create(_root, handler, _time, Shards, limits: limits);
        return new Node(host, handler, Sys.ActorOf(LocalShardRegion.Props(host, ShardKind.Blobs)));
    }

    private static BlobClient Client(Node node, PrincipalToken caller) => new(node.Region, Shards, new FixedTokenSource(caller), Wait);

    private T Send<T>(Node node, object message)
    {
        node.Region.Tell(message, TestActor);
        var reply = ExpectMsg<object>(Wait);
        return reply is T ok ? ok : throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name}, got {reply}");
    }

    private string Fails(Node node, object message) => Send<BlobFailed>(node, message).Error.Code;

    private RecordId Begin(Node node, string name = "report.pdf", string contentType = "application/pdf", string? key = null, int chunkSize = Chunk) =>
        Send<BlobUploadStarted>(node, new BeginBlobUpload(Callers.Writer, key ?? Guid.NewGuid().ToString("N"), name, contentType, new() { ["team"] = "finance" }, chunkSize)).BlobId;

    private BlobMetadata Upload(Node node, byte[] data, string name = "report.pdf", string contentType = "application/pdf", string? key = null) =>
        Client(node, Callers.Writer).UploadAsync(new MemoryStream(data), name, contentType, new Dictionary<string, string> { ["team"] = "finance" }, Chunk, key).GetAwaiter().GetResult();

    private void HandOff(Node node, int shard)
    {
        node.Region.Tell(new LocalShardRegion.HandOffShard(shard), TestActor);
        ExpectMsg<LocalShardRegion.ShardHandedOff>(Wait);
    }

    private static T WithStore<T>(Node node, int shard, Func<IShardStore, ForgeOne.Cluster.Security.IShardSecurity, T> work)
    {
        using var store = ShardStore.Open(node.Host.StoreOptions(ShardKind.Blobs, shard));
        using var security = node.Host.Security.Open(store, ShardKind.Blobs, shard);
        return work(store, security);
    }

    private static string FilePath(Node node, int shard) => WithStore(node, shard, (store, _) => store.FilePath);

    private static List<AuditRecord> Audit(Node node, int shard) =>
        WithStore(node, shard, (store, security) =>
        {
            var records = store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
            Assert.True(AuditVerifier.Verify(records, $"blobs-{shard:D4}").IsValid);

            // Resources in plaintext for the assertions: what is stored is sealed.
            return records.Select(r => r with { Resource = security.RevealAuditResource(r) }).ToList();
        });

    [Fact]
    public async Task Upload_ThenDownload_ReturnsTheSameBytesAndMetadata()
    {
        var node = Start();
        var random = BlobHosts.Bytes((5 * Chunk) + 123);
        var zeros = new byte[3 * Chunk];

        var a = Upload(node, random);
        var b = Upload(node, zeros, name: "zeros.bin", contentType: "application/octet-stream");

        Assert.Equal(random.Length, a.Size);
        Assert.Equal(6, a.ChunkCount);
        Assert.Equal(BlobHasher.Of(random), a.Checksum);
        Assert.True(a.Encrypted);
        Assert.False(a.Compressed);
        Assert.True(b.Compressed);
        Assert.Equal(3, b.ChunkCount);

        var reader = Client(node, Callers.Reader);
        foreach (var (meta, data) in new[] { (a, random), (b, zeros) })
        {
            var sink = new MemoryStream();
            var got = await reader.DownloadAsync(meta.Id, sink);
            Assert.Equal(data, sink.ToArray());
            Assert.Equal(meta.Checksum, got.Checksum);
        }

        var found = await reader.GetAsync(a.Id);
        Assert.Equal("report.pdf", found.Name);
        Assert.Equal("finance", found.Metadata["team"]);
        Assert.Equal("alice", found.CreatedBy);
    }

    [Fact]
    public async Task Upload_IsInvisibleUntilItsCompletionCommits()
    {
        var node = Start();
        var data = BlobHosts.Bytes((2 * Chunk) + 10);
        var id = Begin(node, name: "pending.bin");
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 0, data[..Chunk]));
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 1, data[Chunk..(2 * Chunk)]));
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 2, data[(2 * Chunk)..]));

        Assert.Equal(ErrorCodes.NotFound, Fails(node, new GetBlob(Callers.Reader, id)));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new ReadBlobChunk(Callers.Reader, id, 0)));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new ReadBlobRange(Callers.Reader, id, 0, 10)));
        var reader = Client(node, Callers.Reader);
        Assert.Empty((await reader.FindAsync(BlobLookupKind.Name, "pending.bin")).Blobs);

        var done = Send<BlobUploadCompleted>(node, new CompleteBlobUpload(Callers.Writer, id, BlobHasher.Of(data), data.Length, 3)).Blob;

        Assert.Equal(id, done.Id);
        Assert.Equal(data.Length, (await reader.GetAsync(id)).Size);
        Assert.Equal(id, Assert.Single((await reader.FindAsync(BlobLookupKind.Name, "pending.bin")).Blobs).Id);
    }

    [Fact]
    public void PutChunk_RefusesOutOfOrderChunks_AndAcknowledgesAnIdenticalRetry()
    {
        var node = Start();
        var id = Begin(node);
        var first = BlobHosts.Bytes(Chunk, 1);

        Assert.Equal(Chunk, Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 0, first)).Received);
        Assert.Equal(ErrorCodes.InvalidChunk, Fails(node, new PutBlobChunk(Callers.Writer, id, 2, BlobHosts.Bytes(Chunk, 2))));
        var retry = Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 0, (byte[])first.Clone()));
        Assert.Equal((0, (long)Chunk), (retry.Index, retry.Received));
        Assert.Equal(ErrorCodes.Conflict, Fails(node, new PutBlobChunk(Callers.Writer, id, 0, BlobHosts.Bytes(Chunk, 3))));

        // A short chunk may only be the last one.
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 1, BlobHosts.Bytes(100, 4)));
        Assert.Equal(ErrorCodes.InvalidChunk, Fails(node, new PutBlobChunk(Callers.Writer, id, 2, BlobHosts.Bytes(Chunk, 5))));

        // A chunk whose client checksum does not match its bytes is refused.
        var other = Begin(node);
        Assert.Equal(ErrorCodes.ChecksumMismatch, Fails(node, new PutBlobChunk(Callers.Writer, other, 0, first, XxHash128.Hash(BlobHosts.Bytes(Chunk, 9)))));
        Assert.Equal(ErrorCodes.InvalidChunk, Fails(node, new PutBlobChunk(Callers.Writer, other, 0, first, new byte[32])));
        Assert.Equal(Chunk, Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, other, 0, first, XxHash128.Hash(first))).Received);
    }

    [Fact]
    public void OversizedChunks_AreRefused()
    {
        var node = Start(limits: Limits.Default with { MaxChunkBytes = 64 * 1024 });
        var id = Begin(node);

        // Larger than this blob's chunk size (checked in the transaction).
        Assert.Equal(ErrorCodes.ChunkTooLarge, Fails(node, new PutBlobChunk(Callers.Writer, id, 0, new byte[Chunk + 1])));

        // Larger than the node's limit (checked at admission, before any I/O).
        Assert.Equal(ErrorCodes.ChunkTooLarge, Fails(node, new PutBlobChunk(Callers.Writer, id, 0, new byte[(64 * 1024) + 1])));
        Assert.Equal(ErrorCodes.ChunkTooLarge, Fails(node, new BeginBlobUpload(Callers.Writer, "k", "big.bin", "application/octet-stream", null, (64 * 1024) + 1)));
        Assert.Equal(ErrorCodes.InvalidChunk, Fails(node, new PutBlobChunk(Callers.Writer, id, 0, [])));
    }

    [Fact]
    public void Complete_WithAWrongChecksum_IsRefusedAndTheBlobStaysInvisible()
    {
        var node = Start();
        var data = BlobHosts.Bytes(Chunk + 5);
        var id = Begin(node);
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 0, data[..Chunk]));
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 1, data[Chunk..]));

        Assert.Equal(ErrorCodes.ChecksumMismatch, Fails(node, new CompleteBlobUpload(Callers.Writer, id, BlobHasher.Of(BlobHosts.Bytes(10)), data.Length, 2)));
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new CompleteBlobUpload(Callers.Writer, id, BlobHasher.Of(data), data.Length + 1, 2)));

        // The whole-blob checksum a client checks against is the XXH3-128; a SHA-256 is refused as malformed.
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new CompleteBlobUpload(Callers.Writer, id, SHA256.HashData(data), data.Length, 2)));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new GetBlob(Callers.Reader, id)));

        Send<BlobUploadCompleted>(node, new CompleteBlobUpload(Callers.Writer, id, BlobHasher.Of(data), data.Length, 2));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new PutBlobChunk(Callers.Writer, id, 2, [1])));
    }

    [Fact]
    public void HandOff_WhileChunksAreStillBeingPrepared_PreparesThemItself_AndCommitsEveryOneInOrder()
    {
        // Chunks are prepared (checksum, LZ4, AES-GCM) on the thread pool. Here the pool's
        // preparations are held until the shard prepares one itself, which it does only at
        // hand-off: so every chunk is still being prepared when the hand-off lands.
        var handler = new HeldPreparations(new BlobShardHandler(new BlobShardOptions { SweepInterval = TimeSpan.FromHours(1) }));
        var host = BlobHosts.Create(_root, handler, _time, Shards);
        var node = new Node(host, handler.Inner, Sys.ActorOf(LocalShardRegion.Props(host, ShardKind.Blobs)));
        var data = BlobHosts.Bytes(8 * Chunk);
        var id = Begin(node);
        for (var i = 0; i < 8; i++)
        {
            node.Region.Tell(new PutBlobChunk(Callers.Writer, id, i, data[(i * Chunk)..((i + 1) * Chunk)]), TestActor);
        }

        node.Region.Tell(new LocalShardRegion.HandOffShard(id.Shard), TestActor);
        var acks = Enumerable.Range(0, 8).Select(_ => ExpectMsg<BlobChunkStored>(Wait)).ToList();
        ExpectMsg<LocalShardRegion.ShardHandedOff>(Wait);
        Assert.True(handler.PreparedInline > 0);
        Assert.Equal(Enumerable.Range(0, 8), acks.Select(a => a.Index));
        Assert.Equal(Enumerable.Range(1, 8).Select(n => (long)n * Chunk), acks.Select(a => a.Received));

        // No client checksum: the shard records the SHA-256 it computed over what it stored.
        var done = Send<BlobUploadCompleted>(Start(), new CompleteBlobUpload(Callers.Writer, id, null, data.Length, 8)).Blob;
        Assert.Equal(BlobHasher.Of(data), done.Checksum);
    }

    [Fact]
    public async Task Upload_ResumesAfterTheShardMovesToAnotherNode()
    {
        var node = Start();
        var data = BlobHosts.Bytes(6 * Chunk);
        var id = Begin(node);
        for (var i = 0; i < 3; i++)
        {
            Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, i, data[(i * Chunk)..((i + 1) * Chunk)]));
        }

        HandOff(node, id.Shard);

        // A second "node": same files, a fresh handler with no cached upload state.
        var other = Start();
        for (var i = 3; i < 6; i++)
        {
            Assert.Equal((i + 1L) * Chunk, Send<BlobChunkStored>(other, new PutBlobChunk(Callers.Writer, id, i, data[(i * Chunk)..((i + 1) * Chunk)])).Received);
        }

        var done = Send<BlobUploadCompleted>(other, new CompleteBlobUpload(Callers.Writer, id, BlobHasher.Of(data), data.Length, 6)).Blob;
        Assert.Equal(BlobHasher.Of(data), done.Checksum);
        var sink = new MemoryStream();
        await Client(other, Callers.Reader).DownloadAsync(id, sink);
        Assert.Equal(data, sink.ToArray());
    }

    [Fact]
    public async Task Download_OfAChunkWhosePlaintextWasAltered_FailsWithChecksumMismatch_AndRangesAvoidingItStillRead()
    {
        var node = Start();
        var data = BlobHosts.Bytes(4 * Chunk);
        var blob = Upload(node, data);
        HandOff(node, blob.Id.Shard);

        // Re-encrypt a frame whose payload byte was changed: envelope and AES-GCM are valid, only the chunk SHA-256 can tell.
        WithStore(node, blob.Id.Shard, (store, security) => store.Write(txn =>
        {
            var key = RecordKeys.BlobChunk(blob.Id, 2);
            var frame = security.Decrypt(Tables.BlobChunks, key, txn.Get(Tables.BlobChunks, key)!);
            frame[BlobChunkCodec.HeaderLength + 7] ^= 0x01;
            txn.Put(Tables.BlobChunks, key, security.Encrypt(Tables.BlobChunks, key, frame));
            return 0;
        }));

        Assert.Equal(ErrorCodes.ChecksumMismatch, Fails(node, new ReadBlobChunk(Callers.Reader, blob.Id, 2)));
        Assert.Equal(ErrorCodes.ChecksumMismatch, Fails(node, new ReadBlobRange(Callers.Reader, blob.Id, (2 * Chunk) + 100, 10)));
        Assert.Equal(data[..(2 * Chunk)], Send<BlobRangeRead>(node, new ReadBlobRange(Callers.Reader, blob.Id, 0, 2 * Chunk)).Data);
        var error = await Assert.ThrowsAsync<ForgeOneException>(() => Client(node, Callers.Reader).DownloadAsync(blob.Id, new MemoryStream()));
        Assert.Equal(ErrorCodes.ChecksumMismatch, error.Code);
    }

    [Fact]
    public async Task Download_OfAChunkWithAByteFlippedInTheLmdbFile_FailsWithChecksumMismatch()
    {
        var node = Start();
        var data = BlobHosts.Bytes(4 * Chunk);
        var blob = Upload(node, data);
        HandOff(node, blob.Id.Shard);
        var stored = WithStore(node, blob.Id.Shard, (store, _) => store.Read(txn => txn.Get(Tables.BlobChunks, RecordKeys.BlobChunk(blob.Id, 1))!));
        var path = FilePath(node, blob.Id.Shard);

        // Flip one ciphertext byte wherever the page holding the chunk is in the file.
        var file = File.ReadAllBytes(path);
        var needle = stored.AsSpan(stored.Length / 2, 64);
        var flipped = 0;
        for (var at = file.AsSpan().IndexOf(needle); at >= 0;)
        {
            file[at + 32] ^= 0x40;
            flipped++;
            var next = file.AsSpan(at + 1).IndexOf(needle);
            at = next < 0 ? -1 : at + 1 + next;
        }

        Assert.True(flipped > 0, "the chunk's ciphertext was not found in the file");
        File.WriteAllBytes(path, file);

        Assert.Equal(ErrorCodes.ChecksumMismatch, Fails(node, new ReadBlobChunk(Callers.Reader, blob.Id, 1)));
        Assert.Equal(data[..Chunk], Send<BlobChunkRead>(node, new ReadBlobChunk(Callers.Reader, blob.Id, 0)).Data);
        var error = await Assert.ThrowsAsync<ForgeOneException>(() => Client(node, Callers.Reader).DownloadAsync(blob.Id, new MemoryStream()));
        Assert.Equal(ErrorCodes.ChecksumMismatch, error.Code);
    }

    [Fact]
    public async Task Download_WhoseWholeBlobChecksumDiffers_FailsWithChecksumMismatch()
    {
        var node = Start();
        var blob = Upload(node, BlobHosts.Bytes((2 * Chunk) + 1));
        HandOff(node, blob.Id.Shard);
        WithStore(node, blob.Id.Shard, (store, security) => store.Write(txn =>
        {
            var key = RecordKeys.Primary(blob.Id);
            var meta = StoredBlobMetadata.Decode(security.Decrypt(Tables.BlobMetadata, key, txn.Get(Tables.BlobMetadata, key)!));
            var wrong = (byte[])meta.Checksum.Clone();
            wrong[0] ^= 0xFF;
            txn.Put(Tables.BlobMetadata, key, security.Encrypt(Tables.BlobMetadata, key, (meta with { Checksum = wrong }).Encode()));
            return 0;
        }));

        var error = await Assert.ThrowsAsync<ForgeOneException>(() => Client(node, Callers.Reader).DownloadAsync(blob.Id, new MemoryStream()));
        Assert.Equal(ErrorCodes.ChecksumMismatch, error.Code);
    }

    [Fact]
    public async Task RangeRead_ReturnsExactlyTheRequestedBytes()
    {
        var node = Start();
        var data = BlobHosts.Bytes((10 * Chunk) + 100);
        var blob = Upload(node, data);
        var size = data.Length;

        foreach (var (offset, length) in new[] { (0L, 10), (Chunk - 6L, 20), (3L * Chunk, Chunk), (5L, (3 * Chunk) + 7), (0L, size), (size - 5L, 100), (size, 10), (17L, 0) })
        {
            var expected = data.AsSpan((int)offset, (int)Math.Min(length, size - offset)).ToArray();
            var got = await Client(node, Callers.Reader).ReadRangeAsync(blob.Id, offset, length);
            Assert.Equal(expected, got);
        }

        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new ReadBlobRange(Callers.Reader, blob.Id, size + 1, 1)));
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new ReadBlobRange(Callers.Reader, blob.Id, 0, (8 * 1024 * 1024) + 1)));
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new ReadBlobChunk(Callers.Reader, blob.Id, 11)));
    }

    [Fact]
    public async Task Lookup_ByNameAndContentType_GathersEveryShard_InPages()
    {
        var node = Start();
        var reports = Enumerable.Range(0, 7).Select(i => Upload(node, BlobHosts.Bytes(100 + i, i), key: $"report-{i}").Id).ToHashSet();
        var notes = Enumerable.Range(0, 2).Select(i => Upload(node, BlobHosts.Bytes(50, i), name: "notes.txt", contentType: "text/plain", key: $"note-{i}").Id).ToHashSet();
        Begin(node, name: "report.pdf");
        Assert.True(reports.Select(id => id.Shard).Distinct().Count() > 1, "the uploads should span shards");

        var reader = Client(node, Callers.Reader);
        var seen = new List<RecordId>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await reader.FindAsync(BlobLookupKind.Name, "report.pdf", limit: 3, continuation: token);
            Assert.True(page.Blobs.Length <= 3);
            Assert.All(page.Blobs, b => Assert.Equal("report.pdf", b.Name));
            seen.AddRange(page.Blobs.Select(b => b.Id));
            token = page.Continuation;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(reports.OrderBy(id => id), seen);
        Assert.Equal(notes, (await reader.FindAsync(BlobLookupKind.ContentType, "text/plain")).Blobs.Select(b => b.Id).ToHashSet());
        Assert.Empty((await reader.FindAsync(BlobLookupKind.Name, "nothing.bin")).Blobs);

        // A shard's token from one lookup does not work for another.
        var first = Send<BlobPage>(node, new FindBlobs(Callers.Reader, reports.First().Shard, BlobLookupKind.Name, "report.pdf", 1));
        Assert.NotNull(first.Continuation);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Fails(node, new FindBlobs(Callers.Reader, reports.First().Shard, BlobLookupKind.ContentType, "application/pdf", 1, first.Continuation)));
    }

    [Fact]
    public async Task Delete_DestroysTheChunks_KeepsAnAuditedTombstone_AndTheBlobIsNotFound()
    {
        var node = Start();
        var blob = Upload(node, BlobHosts.Bytes((3 * Chunk) + 1));
        var writer = Client(node, Callers.Writer);

        Assert.Equal(4, await writer.DeleteAsync(blob.Id));

        Assert.Equal(ErrorCodes.NotFound, Fails(node, new GetBlob(Callers.Reader, blob.Id)));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new ReadBlobChunk(Callers.Reader, blob.Id, 0)));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new DeleteBlob(Callers.Writer, blob.Id)));
        Assert.Empty((await Client(node, Callers.Reader).FindAsync(BlobLookupKind.Name, "report.pdf")).Blobs);
        HandOff(node, blob.Id.Shard);

        var (chunks, tombstone) = WithStore(node, blob.Id.Shard, (store, security) => store.Read(txn =>
        {
            var key = RecordKeys.Primary(blob.Id);
            return (
                txn.Count(Tables.BlobChunks),
                StoredBlobMetadata.Decode(security.Decrypt(Tables.BlobMetadata, key, txn.Get(Tables.BlobMetadata, key)!)));
        }));
        Assert.Equal(0, chunks);
        Assert.True(tombstone.IsTombstone);
        Assert.Equal("alice", tombstone.DeletedBy);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), tombstone.DeletedAt!.Value.ToUnixTimeMilliseconds());
        Assert.Contains(Audit(node, blob.Id.Shard), r => r.Action == "blobs.delete" && r.Principal == "alice" && r.Outcome == AuditOutcome.Success && r.Resource.EndsWith(blob.Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void AbandonedUpload_IsDeletedInBoundedBatches_AndAudited()
    {
        var node = Start(new BlobShardOptions { AbandonAfter = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromHours(1), SweepBatchChunks = 2 });
        var id = Begin(node, key: "abandoned");
        for (var i = 0; i < 5; i++)
        {
            Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, i, BlobHosts.Bytes(Chunk, i)));
        }

        var sweep = new SweepAbandonedUploads(Callers.Admin, id.Shard);
        Assert.Equal(new AbandonedUploadsSwept(id.Shard, 0, 0), Send<AbandonedUploadsSwept>(node, sweep));
        _time.Advance(TimeSpan.FromMinutes(9));
        var fresh = Begin(node, key: "abandoned");
        Assert.Equal(id.Shard, fresh.Shard);
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, fresh, 0, [1, 2, 3]));
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(new AbandonedUploadsSwept(id.Shard, 0, 2), Send<AbandonedUploadsSwept>(node, sweep));
        Assert.Equal(ErrorCodes.NotFound, Fails(node, new PutBlobChunk(Callers.Writer, id, 5, BlobHosts.Bytes(Chunk))));
        Assert.Equal(new AbandonedUploadsSwept(id.Shard, 0, 2), Send<AbandonedUploadsSwept>(node, sweep));
        Assert.Equal(new AbandonedUploadsSwept(id.Shard, 1, 1), Send<AbandonedUploadsSwept>(node, sweep));
        Assert.Equal(new AbandonedUploadsSwept(id.Shard, 0, 0), Send<AbandonedUploadsSwept>(node, sweep));
        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new SweepAbandonedUploads(Callers.Writer, id.Shard)));

        // The upload that was active is untouched.
        Send<BlobUploadCompleted>(node, new CompleteBlobUpload(Callers.Writer, fresh, BlobHasher.Of(new byte[] { 1, 2, 3 }), 3, 1));
        HandOff(node, id.Shard);
        var chunksLeft = WithStore(node, id.Shard, (store, _) => store.Read(txn => txn.Scan(Tables.BlobChunks, [], []).Select(kv => RecordKeys.ParseBlobChunk(kv.Key).BlobId).ToList()));
        Assert.Equal([fresh], chunksLeft);
        Assert.Equal(5, Audit(node, id.Shard).Count(r => r.Action == "blobs.sweep_abandoned_uploads" && r.Outcome == AuditOutcome.Success));
    }

    [Fact]
    public void AbandonedUpload_IsCleanedUpByTheShardsOwnTimer()
    {
        var node = Start(new BlobShardOptions { AbandonAfter = TimeSpan.FromMinutes(10), SweepInterval = TimeSpan.FromMilliseconds(100) });
        var id = Begin(node);
        Send<BlobChunkStored>(node, new PutBlobChunk(Callers.Writer, id, 0, BlobHosts.Bytes(Chunk)));

        // Probe with a completion that cannot succeed: a chunk would count as activity and keep the upload alive.
        var probe = new CompleteBlobUpload(Callers.Writer, id, new byte[BlobHasher.ChecksumLength], 1, 99);
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, probe));
        _time.Advance(TimeSpan.FromMinutes(11));

        AwaitAssert(() => Assert.Equal(ErrorCodes.NotFound, Fails(node, probe)), Wait, TimeSpan.FromMilliseconds(100));
        HandOff(node, id.Shard);
        Assert.Equal(0, WithStore(node, id.Shard, (store, _) => store.Read(txn => txn.Count(Tables.BlobChunks))));
        Assert.Contains(Audit(node, id.Shard), r => r.Action == "blobs.sweep_abandoned_uploads" && r.Principal == NodeSecurity.NodePrefix + "test-node" && r.Outcome == AuditOutcome.Success);
        Assert.Equal(0, node.Handler.Hashes.Count);
    }

    [Fact]
    public async Task ReaderWithoutTheBlobNameClass_GetsARedactedNameAndMetadata()
    {
        var node = Start();
        var blob = Upload(node, BlobHosts.Bytes(10), name: "salaries-2026.xlsx");

        var redacted = await Client(node, Auditor).GetAsync(blob.Id);
        var clear = await Client(node, Callers.Reader).GetAsync(blob.Id);

        Assert.Equal("[redacted:blob.name]", redacted.Name);
        Assert.DoesNotContain("team", redacted.Metadata.Keys);
        Assert.Equal(blob.Size, redacted.Size);
        Assert.Equal("salaries-2026.xlsx", clear.Name);
        Assert.Equal("[redacted:blob.name]", Assert.Single((await Client(node, Auditor).FindAsync(BlobLookupKind.Name, "salaries-2026.xlsx")).Blobs).Name);

        // The name is not in the file in clear either.
        HandOff(node, blob.Id.Shard);
        var file = File.ReadAllBytes(FilePath(node, blob.Id.Shard));
        Assert.Equal(-1, file.AsSpan().IndexOf(Encoding.UTF8.GetBytes("salaries-2026")));
    }

    [Fact]
    public async Task Unauthorized_OperationsAreRefusedAndAuditedAsDenied()
    {
        var node = Start();
        var blob = Upload(node, BlobHosts.Bytes(10), key: "fixed");
        var stranger = TestAuth.Token("eve", ["no-such-role"], "acme", ["*"], 0);

        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new BeginBlobUpload(Callers.Reader, "fixed", "x.bin", "application/octet-stream")));
        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new ReadBlobChunk(stranger, blob.Id, 0)));
        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new DeleteBlob(Callers.Reader, blob.Id)));
        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new GetBlob(Callers.Writer, blob.Id)));
        Assert.Equal(ErrorCodes.Forbidden, Fails(node, new FindBlobs(stranger, blob.Id.Shard, BlobLookupKind.Name, "report.pdf")));
        Assert.Equal(10, (await Client(node, Callers.Reader).GetAsync(blob.Id)).Size);

        HandOff(node, blob.Id.Shard);
        var audit = Audit(node, blob.Id.Shard);
        Assert.Contains(audit, r => r.Principal == "bob" && r.Action == "blobs.begin_upload" && r.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, r => r.Principal == "eve" && r.Action == "blobs.read_chunk" && r.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, r => r.Principal == "bob" && r.Action == "blobs.delete" && r.Outcome == AuditOutcome.Denied);
        Assert.Contains(audit, r => r.Principal == "alice" && r.Action == "blobs.get" && r.Outcome == AuditOutcome.Denied);
        Assert.Equal(1, WithStore(node, blob.Id.Shard, (store, _) => store.Read(txn => txn.Count(Tables.BlobMetadata))));
    }

    [Fact]
    public void Begin_ValidatesNameContentTypeAndMetadata()
    {
        var node = Start();
        Assert.Equal(ErrorCodes.InvalidName, Fails(node, new BeginBlobUpload(Callers.Writer, "k", " ", "text/plain")));
        Assert.Equal(ErrorCodes.InvalidContentType, Fails(node, new BeginBlobUpload(Callers.Writer, "k", "a.txt", "not a type")));
        Assert.Equal(ErrorCodes.InvalidArgument, Fails(node, new BeginBlobUpload(Callers.Writer, string.Empty, "a.txt", "text/plain")));
    }

    public new void Dispose()
    {
        Shutdown();
        _root.Dispose();
    }
}
