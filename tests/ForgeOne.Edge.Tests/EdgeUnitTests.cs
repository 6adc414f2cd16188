using System.Text.Json;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Edge.Problems;
using ForgeOne.Edge.RateLimiting;
using ForgeOne.Edge.Routes;
using Microsoft.Extensions.Time.Testing;

namespace ForgeOne.Edge.Tests;

/// <summary>The edge's pure parts, without a server.</summary>
public sealed class EdgeUnitTests
{
    [Theory]
    [InlineData(ErrorCodes.InvalidTopic, 400)]
    [InlineData(ErrorCodes.MalformedBody, 400)]
    [InlineData(ErrorCodes.InvalidContinuationToken, 400)]
    [InlineData(ErrorCodes.Unauthenticated, 401)]
    [InlineData(ErrorCodes.Forbidden, 403)]
    [InlineData(ErrorCodes.NotFound, 404)]
    [InlineData(ErrorCodes.UnknownRoute, 404)]
    [InlineData(ErrorCodes.Conflict, 409)]
    [InlineData(ErrorCodes.OffsetRegression, 409)]
    [InlineData(ErrorCodes.RequestInFlight, 409)]
    [InlineData(ErrorCodes.BodyTooLarge, 413)]
    [InlineData(ErrorCodes.BatchTooLarge, 413)]
    [InlineData(ErrorCodes.UnsupportedMediaType, 415)]
    [InlineData(ErrorCodes.RequestKeyReused, 422)]
    [InlineData(ErrorCodes.ChecksumMismatch, 422)]
    [InlineData(ErrorCodes.RateLimited, 429)]
    [InlineData(ErrorCodes.Unavailable, 503)]
    [InlineData(ErrorCodes.Timeout, 503)]
    [InlineData(ErrorCodes.ResidencyUnavailable, 503)]
    [InlineData(ErrorCodes.CryptoTampered, 500)]
    [InlineData(ErrorCodes.StorageCorruptRecord, 500)]
    [InlineData("validation.added_later", 400)]
    [InlineData("cluster.added_later", 503)]
    public void ProblemMapping_GivesEachCodeItsStatus(string code, int status) => Assert.Equal(status, ProblemMapping.StatusOf(code));

    [Fact]
    public void Problem_CarriesTheErrorsDetailsAsExtensionMembers_AndTheHttpClientReadsThemBack()
    {
        var error = new ForgeOneError(ErrorCodes.AuditChainBroken, "Shard logs-0001 refuses writes: its audit chain is broken", new Dictionary<string, string>
        {
            [ForgeOneError.StoreDetail] = "logs-0001",
            [ForgeOneError.TableDetail] = "audit",
            [ForgeOneError.KeyDetail] = "0000000000000005",
            [ForgeOneError.SeqDetail] = "5",
            // A detail may not replace a standard member.
            ["status"] = "200",
        });

        var json = JsonSerializer.Serialize(ProblemResponses.For(error, "/v1/log-entries/x"), ApiJsonContext.Default.Problem);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(
            ("audit.chain_broken", 500, "/v1/log-entries/x", "logs-0001", "audit", "0000000000000005", "5"),
            (root.GetProperty("code").GetString(), root.GetProperty("status").GetInt32(), root.GetProperty("instance").GetString(),
             root.GetProperty("store").GetString(), root.GetProperty("table").GetString(), root.GetProperty("key").GetString(), root.GetProperty("seq").GetString()));
        // Each member once: the standard ones, then the details (the one named "status" left out).
        Assert.Equal(["code", "detail", "instance", "key", "seq", "status", "store", "table", "title", "type"], root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        var read = JsonSerializer.Deserialize(json, ApiJsonContext.Default.Problem)!;
        var thrown = new ForgeOneHttpException(read);
        Assert.Equal(ErrorCodes.AuditChainBroken, thrown.Code);
        Assert.Equal(
            new Dictionary<string, string> { ["store"] = "logs-0001", ["table"] = "audit", ["key"] = "0000000000000005", ["seq"] = "5" },
            thrown.Error.Details);

        var plain = JsonSerializer.Serialize(ProblemResponses.For(new ForgeOneError(ErrorCodes.NotFound, "no such entry"), null), ApiJsonContext.Default.Problem);
        Assert.Null(JsonSerializer.Deserialize(plain, ApiJsonContext.Default.Problem)!.Extensions);
        Assert.Null(new ForgeOneHttpException(JsonSerializer.Deserialize(plain, ApiJsonContext.Default.Problem)!).Error.Details);
    }

    [Fact]
    public void RateLimiter_AllowsTheBurst_ThenRefillsAtTheRate()
    {
        var time = new FakeTimeProvider();
        var limiter = new PrincipalRateLimiter(requestsPerSecond: 10, burst: 3, time);
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => limiter.TryAcquire("alice").Allowed));
        var refused = limiter.TryAcquire("alice");
        Assert.Equal((false, 0, 1), (refused.Allowed, refused.Remaining, refused.RetryAfterSeconds));
        Assert.True(limiter.TryAcquire("bob").Allowed);

        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(limiter.TryAcquire("alice").Allowed);
        Assert.False(limiter.TryAcquire("alice").Allowed);
        time.Advance(TimeSpan.FromSeconds(10));
        var full = limiter.TryAcquire("alice");
        Assert.Equal((true, 2), (full.Allowed, full.Remaining));
    }

    [Fact]
    public void RateLimiter_StaysBounded_ForgettingIdlePrincipalsFirst()
    {
        var time = new FakeTimeProvider();
        var limiter = new PrincipalRateLimiter(requestsPerSecond: 1, burst: 1, time, capacity: 100);
        for (var i = 0; i < 1000; i++)
        {
            limiter.TryAcquire($"p{i}");
        }

        Assert.True(limiter.Tracked <= 100);
        Assert.False(limiter.TryAcquire("p999").Allowed);
    }

    [Theory]
    [InlineData("bytes=0-9", 100, 0L, 10L)]
    [InlineData("bytes=90-", 100, 90L, 10L)]
    [InlineData("bytes=-5", 100, 95L, 5L)]
    [InlineData("bytes=-500", 100, 0L, 100L)]
    [InlineData("bytes=10-1000", 100, 10L, 90L)]
    public void ParseRange_ReadsOneByteRange(string header, long size, long start, long length)
    {
        var range = BlobRoutes.ParseRange(header, size, out var unsatisfiable);
        Assert.False(unsatisfiable);
        Assert.Equal((start, length), range);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("items=0-1", false)]
    [InlineData("bytes=0-1,5-6", false)]
    [InlineData("bytes=5-2", false)]
    [InlineData("bytes=abc", false)]
    [InlineData("bytes=100-", true)]
    [InlineData("bytes=-0", true)]
    public void ParseRange_IgnoresOrRefusesWhatItCannotServe(string header, bool unsatisfiable)
    {
        Assert.Null(BlobRoutes.ParseRange(header, 100, out var refused));
        Assert.Equal(unsatisfiable, refused);
    }
}
