using System.IO.Hashing;
using System.Net.Http.Headers;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Client.Http;

/// <summary>Blobs: streamed both ways, never held whole.</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <inheritdoc />
    public async Task<BlobMetadata> UploadBlobAsync(Stream source, string name, string contentType, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        // Sent once: a stream cannot be replayed, and an interrupted upload stays invisible (the
        // shard sweeps it), so a caller that retries starts a new blob.
        using var response = await SendRawAsync(HttpMethod.Post, $"/v1/blobs?name={Escape(name)}", () =>
        {
            var content = new StreamContent(source, 1024 * 1024);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            if (source.CanSeek)
            {
                content.Headers.ContentLength = source.Length - source.Position;
            }

            return content;
        }, retryable: false, null, HttpCompletionOption.ResponseContentRead, cancellationToken, request =>
        {
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            {
                request.Headers.Add("ForgeOne-Meta-" + key, value);
            }
        }).ConfigureAwait(false);
        return FromApi(await ReadAsync<BlobView>(response, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<BlobMetadata> DownloadBlobAsync(RecordId id, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var meta = await GetBlobAsync(id, cancellationToken).ConfigureAwait(false);
        using var response = await SendRawAsync(HttpMethod.Get, $"/v1/blobs/{id}", null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var hash = meta.Checksum.Length == 16 ? new XxHash128() : null;
        var buffer = new byte[256 * 1024];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash?.Append(buffer.AsSpan(0, n));
            await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            total += n;
        }

        // The edge cuts the connection on a damaged chunk; a short or altered body is caught here too.
        if (total != meta.Size || (hash is not null && !hash.GetCurrentHash().AsSpan().SequenceEqual(meta.Checksum)))
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, $"Blob {id}: received {total} of {meta.Size} bytes or a body that does not match its checksum; discard what was written.");
        }

        return meta;
    }

    /// <summary>
    /// Opens a blob (or a byte range of it) as a stream straight from the connection: the caller
    /// reads at its own pace and disposes it. <paramref name="length"/> null: to the end.
    /// </summary>
    public async Task<Stream> OpenBlobAsync(RecordId id, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        var response = await SendRawAsync(HttpMethod.Get, $"/v1/blobs/{id}", null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken, request =>
        {
            if (offset > 0 || length is not null)
            {
                request.Headers.Range = new RangeHeaderValue(offset, length is { } l ? offset + l - 1 : null);
            }
        }).ConfigureAwait(false);
        return new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<BlobMetadata> GetBlobAsync(RecordId id, CancellationToken cancellationToken = default) =>
        FromApi(await GetAsync<BlobView>($"/v1/blobs/{id}/metadata", cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<int> DeleteBlobAsync(RecordId id, CancellationToken cancellationToken = default) =>
        (await SendAsync<ForgeOne.Common.Api.BlobDeleted>(HttpMethod.Delete, $"/v1/blobs/{id}", null, retryable: false, null, cancellationToken).ConfigureAwait(false)).ChunksDestroyed;

    /// <inheritdoc />
    public async Task<BlobLookupPage> FindBlobsAsync(BlobLookupKind by, string value, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var field = by == BlobLookupKind.Name ? "name" : "contentType";
        var page = await GetAsync<BlobList>($"/v1/blobs?{field}={Escape(value)}&limit={limit}{Continue(continuation)}", cancellationToken).ConfigureAwait(false);
        return new BlobLookupPage([.. page.Blobs.Select(FromApi)], page.Continuation);
    }

    private static BlobMetadata FromApi(BlobView b) =>
        new(RecordId.Parse(b.Id), b.Name, b.ContentType, b.Size, b.CreatedAt, b.CreatedBy, Convert.FromHexString(b.Checksum), b.Encrypted, b.Compressed, b.ChunkCount, b.Metadata);

    /// <summary>A response body that disposes its response with it.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.Content.Headers.ContentLength ?? throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
