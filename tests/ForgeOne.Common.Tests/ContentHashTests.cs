using ForgeOne.Common.Model;

namespace ForgeOne.Common.Tests;

public class ContentHashTests
{
    private static readonly DateTimeOffset Time = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void ForLog_IgnoresMetadataOrder()
    {
        var a = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" };
        var b = new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" };

        Assert.Equal(
            ContentHashes.ForLog("t", Time, Severity.Info, "m", a, null),
            ContentHashes.ForLog("t", Time, Severity.Info, "m", b, null));
    }

    [Fact]
    public void ForLog_ChangesWithEveryField()
    {
        var meta = new Dictionary<string, string> { ["k"] = "v" };
        var baseline = ContentHashes.ForLog("t", Time, Severity.Info, "m", meta, "cp");
        var variants = new[]
        {
            ContentHashes.ForLog("u", Time, Severity.Info, "m", meta, "cp"),
            ContentHashes.ForLog("t", Time.AddMilliseconds(1), Severity.Info, "m", meta, "cp"),
            ContentHashes.ForLog("t", Time, Severity.Error, "m", meta, "cp"),
            ContentHashes.ForLog("t", Time, Severity.Info, "n", meta, "cp"),
            ContentHashes.ForLog("t", Time, Severity.Info, "m", new Dictionary<string, string> { ["k"] = "w" }, "cp"),
            ContentHashes.ForLog("t", Time, Severity.Info, "m", meta, null),
            ContentHashes.ForLog("t", Time, Severity.Info, "m", meta, "cq"),
        };

        Assert.Equal(32, baseline.Length);
        Assert.All(variants, v => Assert.NotEqual(baseline, v));
    }

    [Fact]
    public void ForLog_LengthPrefixesPreventFieldBoundaryCollisions() =>
        Assert.NotEqual(
            ContentHashes.ForLog("ab", Time, Severity.Info, "c", new Dictionary<string, string>(), null),
            ContentHashes.ForLog("a", Time, Severity.Info, "bc", new Dictionary<string, string>(), null));
}

public class ContentHashPinTests
{
    // Stored log entries carry this hash and replay re-computes it: the canonical encoding must
    // never change. Pinned from the first implementation.
    [Fact]
    public void ForLog_IsPinned()
    {
        var meta = new Dictionary<string, string> { ["zone"] = "eu", ["app"] = "payments", ["ü"] = "ß" };
        var hash = ContentHashes.ForLog("payments.audit", new DateTimeOffset(2026, 11, 28, 12, 0, 0, 123, TimeSpan.Zero), Severity.Error, "card déclinée", meta, "cp-7");
        var empty = ContentHashes.ForLog("t", DateTimeOffset.FromUnixTimeMilliseconds(946684800000), Severity.Trace, "", new Dictionary<string, string>(), null);

        Assert.Equal("0b46a392a2fc42d7d032064a027604871eff0cbec18160f30ab239cecc3ba7ba", Convert.ToHexStringLower(hash));
        Assert.Equal("51028d8d57a8d71d5e3721730846ca737357616b0a20243c0ffa3ad64bc32e67", Convert.ToHexStringLower(empty));
    }
}
