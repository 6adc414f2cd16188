using System.Globalization;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using ForgeOne.Edge.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using P = ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Edge.Routes;

/// <summary>
/// <c>/v1/blobs</c>: streaming upload (the body goes to the shard chunk by chunk, never held
/// whole), streaming download with <c>Range</c> and <c>ETag</c> (= the stored whole-blob
/// checksum), lookup by name or content type, delete.
/// </summary>
internal static class BlobRoutes
{
    /// <summary>Prefix of headers that carry blob metadata (<c>ForgeOne-Meta-owner: ops</c>).</summary>
    public const string MetadataHeaderPrefix = "ForgeOne-Meta-";

    /// <summary>Optional upload header: the client's XXH3-128 of the whole body (hex), checked before the blob becomes visible.</summary>
    public const string ChecksumHeader = "ForgeOne-Checksum";

    // Bytes per range request to the shard while streaming a Range (the shard's own cap is 8 MiB).
    private const int RangeStep = 1024 * 1024;

    public static void Map(RouteGroupBuilder v1, EdgeOptions options)
    {
        var blobs = v1.MapGroup("/blobs").WithTags("Blobs");

        blobs.MapPost("/", async (string name, HttpContext http, EdgeCluster cluster) =>
        {
            var request = http.Request;
            var contentType = request.ContentType ?? "application/octet-stream";
            var metadata = request.Headers
                .Where(h => h.Key.StartsWith(MetadataHeaderPrefix, StringComparison.OrdinalIgnoreCase) && h.Key.Length > MetadataHeaderPrefix.Length)
                .ToDictionary(h => h.Key[MetadataHeaderPrefix.Length..].ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
            byte[]? expected = null;
            if (request.Headers[ChecksumHeader].FirstOrDefault() is { } checksum)
            {
                expected = checksum.Length == 32 && checksum.All(char.IsAsciiHexDigit)
                    ? Convert.FromHexString(checksum)
                    : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{ChecksumHeader} must be the body's XXH3-128 as 32 hex digits.");
            }

            var meta = await Client(http, cluster, options).UploadAsync(request.Body, name, contentType, metadata.Count == 0 ? null : metadata, expectedChecksum: expected, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            EdgeMetrics.Ingested(0, meta.Size);
            http.Response.Headers.ETag = ETag(meta);
            http.Response.Headers.Location = $"/v1/blobs/{meta.Id}";
            return Results.Json(meta.ToView(), ApiJsonContext.Default.BlobView, statusCode: StatusCodes.Status201Created);
        })
            .WithName("UploadBlob")
            .WithSummary("Streams the request body (Content-Length or chunked) into a new blob named by 'name'; Content-Type is stored; ForgeOne-Meta-* headers become metadata.")
            .Accepts<Stream>("*/*")
            .WithMetadata(new BodyLimit(options.MaxBlobBytes))
            .Produces<BlobView>(StatusCodes.Status201Created).Problems(413, 422);

        blobs.MapGet("/", async (string? name, string? contentType, int? limit, string? continuation, HttpContext http, EdgeCluster cluster) =>
        {
            if ((name is null) == (contentType is null))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, "Look blobs up by exactly one of 'name' or 'contentType'.");
            }

            var page = await Client(http, cluster, options).FindAsync(name is not null ? P.BlobLookupKind.Name : P.BlobLookupKind.ContentType, name ?? contentType!, LogRoutes.Limit(limit, 100, 1000), continuation, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new BlobList([.. page.Blobs.Select(b => b.ToView())], page.Continuation), ApiJsonContext.Default.BlobList);
        })
            .WithName("FindBlobs").WithSummary("Blobs with exactly this name or content type, across every blob shard, in id order.")
            .Produces<BlobList>().Problems();

        blobs.MapGet("/{id}/metadata", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var meta = await Client(http, cluster, options).GetAsync(Mapping.ParseId(id), http.RequestAborted).ConfigureAwait(false);
            http.Response.Headers.ETag = ETag(meta);
            return Results.Json(meta.ToView(), ApiJsonContext.Default.BlobView);
        })
            .WithName("GetBlobMetadata").WithSummary("A blob's metadata.")
            .Produces<BlobView>().Problems(404);

        blobs.MapMethods("/{id}", [HttpMethods.Get, HttpMethods.Head], (string id, HttpContext http, EdgeCluster cluster) => DownloadAsync(Mapping.ParseId(id), http, Client(http, cluster, options)))
            .WithName("DownloadBlob")
            .WithSummary("Streams a blob. Range (one byte range) answers 206; If-None-Match with the ETag answers 304; every chunk and the whole blob are verified on the way.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status304NotModified)
            .Produces(StatusCodes.Status416RangeNotSatisfiable)
            .Problems(404);

        blobs.MapDelete("/{id}", async (string id, HttpContext http, EdgeCluster cluster) =>
        {
            var blobId = Mapping.ParseId(id);
            var chunks = await Client(http, cluster, options).DeleteAsync(blobId, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new BlobDeleted(blobId.ToString(), chunks), ApiJsonContext.Default.BlobDeleted);
        })
            .WithName("DeleteBlob").WithSummary("Destroys a blob's chunks; an audited tombstone remains.")
            .Produces<BlobDeleted>().Problems(404, 409);
    }

    private static BlobClient Client(HttpContext http, EdgeCluster cluster, EdgeOptions options)
    {
        var c = cluster.Require();
        return new BlobClient(c.Region(ShardKind.Blobs), c.Regions.Counts.Of(ShardKind.Blobs), new FixedTokenSource(http.Principal().Token), cluster.RequestTimeout);
    }

    private static string ETag(BlobMetadata meta) => $"\"{Convert.ToHexStringLower(meta.Checksum)}\"";

    private static async Task DownloadAsync(RecordId id, HttpContext http, BlobClient blobs)
    {
        var meta = await blobs.GetAsync(id, http.RequestAborted).ConfigureAwait(false);
        var request = http.Request;
        var response = http.Response;
        var etag = ETag(meta);
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = meta.CreatedAt.ToString("R", CultureInfo.InvariantCulture);
        if (request.Headers.IfNoneMatch.Count > 0
            && request.Headers.IfNoneMatch.SelectMany(v => (v ?? string.Empty).Split(',')).Select(v => v.Trim()).Any(v => v == "*" || v == etag || v == "W/" + etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var range = ParseRange(request.Headers.Range.ToString(), meta.Size, out var unsatisfiable);
        if (unsatisfiable)
        {
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = $"bytes */{meta.Size}";
            return;
        }

        response.ContentType = meta.ContentType;
        var head = HttpMethods.IsHead(request.Method);
        if (range is not { } r)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentLength = meta.Size;
            if (!head)
            {
                // Chunk by chunk, each verified by its shard, the whole-blob checksum at the end:
                // on a mismatch the connection is cut, so a client never takes a damaged blob as whole.
                await blobs.DownloadAsync(id, response.Body, http.RequestAborted).ConfigureAwait(false);
            }

            return;
        }

        response.StatusCode = StatusCodes.Status206PartialContent;
        response.ContentLength = r.Length;
        response.Headers.ContentRange = $"bytes {r.Start}-{r.Start + r.Length - 1}/{meta.Size}";
        if (head)
        {
            return;
        }

        var at = r.Start;
        var end = r.Start + r.Length;
        while (at < end)
        {
            var data = await blobs.ReadRangeAsync(id, at, (int)Math.Min(RangeStep, end - at), http.RequestAborted).ConfigureAwait(false);
            if (data.Length == 0)
            {
                throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Blob {id} ended at byte {at}, before its recorded size {meta.Size}.");
            }

            await response.Body.WriteAsync(data, http.RequestAborted).ConfigureAwait(false);
            at += data.Length;
        }
    }

    /// <summary>
    /// One byte range of a blob of <paramref name="size"/> bytes from a <c>Range</c> header
    /// (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>); null for no header, a header of
    /// another unit or several ranges (answered with the whole blob, as RFC 9110 allows).
    /// </summary>
    internal static (long Start, long Length)? ParseRange(string header, long size, out bool unsatisfiable)
    {
        unsatisfiable = false;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }

        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return null;
        }

        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        const NumberStyles digits = NumberStyles.None;
        if (first.Length == 0)
        {
            // Suffix: the last n bytes.
            if (!long.TryParse(last, digits, CultureInfo.InvariantCulture, out var n))
            {
                return null;
            }

            if (n == 0 || size == 0)
            {
                unsatisfiable = true;
                return null;
            }

            var length = Math.Min(n, size);
            return (size - length, length);
        }

        if (!long.TryParse(first, digits, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        long stop = size - 1;
        if (last.Length > 0 && (!long.TryParse(last, digits, CultureInfo.InvariantCulture, out stop) || stop < start))
        {
            return null;
        }

        if (start >= size)
        {
            unsatisfiable = true;
            return null;
        }

        stop = Math.Min(stop, size - 1);
        return (start, stop - start + 1);
    }
}
