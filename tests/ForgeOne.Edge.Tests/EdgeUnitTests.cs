using ForgeOne.Common;
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
