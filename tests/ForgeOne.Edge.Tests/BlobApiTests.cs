using System.IO.Hashing;
using System.Net;
using System.Net.Http.Headers;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class BlobApiTests(EdgeFixture fx)
{
    private static byte[] Data(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    private async Task<BlobView> UploadAsync(byte[] data, string name, string type = "application/pdf", bool chunked = false)
    {
        HttpContent content = chunked ? new StreamContent(new MemoryStream(data)) : new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/blobs?name={Uri.EscapeDataString(name)}") { Content = content };
        request.Headers.Add("ForgeOne-Meta-Owner", "finance");
        if (chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        var response = await fx.Admin.SendAsync(request);
        var blob = await response.ReadAsync<BlobView>(HttpStatusCode.Created);
        Assert.Equal($"/v1/blobs/{blob.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal($"\"{blob.Checksum}\"", response.Headers.ETag!.Tag);
        return blob;
    }

    [Fact]
    public async Task Upload_Chunked_ThenDownloadWhole_RangeAndConditional()
    {
        var data = Data((3 * 1024 * 1024) + 12345, 1);
        var name = Http.Unique("reports.q3") + ".pdf";
        var blob = await UploadAsync(data, name, chunked: true);
        Assert.Equal((data.LongLength, "application/pdf", "finance", "xxh3-128"), (blob.Size, blob.ContentType, blob.Metadata["owner"], blob.ChecksumAlgorithm));
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(data)), blob.Checksum);

        using var whole = await fx.Admin.GetAsync($"/v1/blobs/{blob.Id}");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(data, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", whole.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"\"{blob.Checksum}\"", whole.Headers.ETag!.Tag);

        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, $"/v1/blobs/{blob.Id}");
        rangeRequest.Headers.Range = new RangeHeaderValue(1_048_000, 2_100_000);
        using var range = await fx.Admin.SendAsync(rangeRequest);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(data[1_048_000..2_100_001], await range.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 1048000-2100000/{data.Length}", range.Content.Headers.ContentRange!.ToString());

        using var suffix = new HttpRequestMessage(HttpMethod.Get, $"/v1/blobs/{blob.Id}");
        suffix.Headers.Range = new RangeHeaderValue(null, 100);
        Assert.Equal(data[^100..], await (await fx.Admin.SendAsync(suffix)).Content.ReadAsByteArrayAsync());

        using var outside = new HttpRequestMessage(HttpMethod.Get, $"/v1/blobs/{blob.Id}");
        outside.Headers.Range = new RangeHeaderValue(data.Length, null);
        var unsatisfiable = await fx.Admin.SendAsync(outside);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        Assert.Equal($"bytes */{data.Length}", unsatisfiable.Content.Headers.ContentRange!.ToString());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/blobs/{blob.Id}");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{blob.Checksum}\""));
        Assert.Equal(HttpStatusCode.NotModified, (await fx.Admin.SendAsync(conditional)).StatusCode);

        using var head = await fx.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v1/blobs/{blob.Id}"));
        Assert.Equal((HttpStatusCode.OK, data.LongLength), (head.StatusCode, head.Content.Headers.ContentLength!.Value));
    }

    [Fact]
    public async Task Lookup_ByNameAndContentType_ThenDelete()
    {
        var name = Http.Unique("lookup") + ".csv";
        var type = "text/x-" + Guid.NewGuid().ToString("N")[..8];
        var a = await UploadAsync(Data(1000, 2), name, type);
        var b = await UploadAsync(Data(2000, 3), name, type);

        var byName = await (await fx.Admin.GetAsync($"/v1/blobs?name={Uri.EscapeDataString(name)}")).ReadAsync<BlobList>();
        Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), byName.Blobs.Select(x => x.Id));
        var byType = await (await fx.Admin.GetAsync($"/v1/blobs?contentType={Uri.EscapeDataString(type)}&limit=1")).ReadAsync<BlobList>();
        Assert.Single(byType.Blobs);
        Assert.NotNull(byType.Continuation);

        var deleted = await (await fx.Admin.DeleteAsync($"/v1/blobs/{a.Id}")).ReadAsync<BlobDeleted>();
        Assert.Equal((a.Id, 1), (deleted.Id, deleted.ChunksDestroyed));
        await (await fx.Admin.GetAsync($"/v1/blobs/{a.Id}")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
        await (await fx.Admin.GetAsync($"/v1/blobs/{a.Id}/metadata")).ProblemAsync(HttpStatusCode.NotFound, "storage.not_found");
        await (await fx.Admin.GetAsync("/v1/blobs")).ProblemAsync(HttpStatusCode.BadRequest, "validation.invalid_argument");
    }

    [Fact]
    public async Task Upload_WithAWrongChecksum_IsRefusedAndInvisible()
    {
        var data = Data(5000, 4);
        var name = Http.Unique("checked") + ".bin";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/blobs?name={name}") { Content = new ByteArrayContent(data) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("ForgeOne-Checksum", Convert.ToHexStringLower(XxHash128.Hash(Data(5000, 5))));
        await (await fx.Admin.SendAsync(request)).ProblemAsync(HttpStatusCode.UnprocessableEntity, "storage.checksum_mismatch");
        Assert.Empty((await (await fx.Admin.GetAsync($"/v1/blobs?name={name}")).ReadAsync<BlobList>()).Blobs);
    }
}
