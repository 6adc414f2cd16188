using ForgeOne.Cluster.Compliance;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Tests.Logs;

/// <summary>The residency directory's pure parts: zone resolution, the stored document, the node cache.</summary>
public sealed class ResidencyDirectoryTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData("eu", null, null, "eu")]
    [InlineData(null, "eu", null, "eu")]
    [InlineData(null, null, "us", "us")]
    [InlineData(null, "eu", "us", "eu")]
    [InlineData("eu", "eu", "us", "eu")]
    [InlineData("us", null, "us", "us")]
    public void Resolve_TopicEntryWinsOverTenant_AndADeclaredZoneIsUsedOnlyWithoutAnEntry(string? declared, string? topicZone, string? tenantZone, string? expected)
    {
        var (zone, _, error) = ResidencyResolver.Resolve(declared, "t", topicZone, "acme", tenantZone);

        Assert.Null(error);
        Assert.Equal(expected, zone);
    }

    [Fact]
    public void Resolve_WithoutATopic_UsesTheDeclaredZone_ElseTheTenantEntry()
    {
        Assert.Equal("eu", ResidencyResolver.Resolve("eu", null, null, "acme", "us").Zone);
        Assert.Equal("us", ResidencyResolver.Resolve(null, null, null, "acme", "us").Zone);
    }

    [Theory]
    [InlineData("us", "eu", null, "topic 't'")]
    [InlineData("eu", null, "us", "tenant 'acme'")]
    [InlineData("us", "eu", "us", "topic 't'")]
    public void Resolve_ADeclaredZoneThatContradictsTheDirectory_IsAMismatch(string declared, string? topicZone, string? tenantZone, string names)
    {
        var (zone, _, error) = ResidencyResolver.Resolve(declared, "t", topicZone, "acme", tenantZone);

        Assert.Null(zone);
        Assert.Equal(ErrorCodes.ResidencyMismatch, error!.Code);
        Assert.Contains(names, error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{declared}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Document_RoundTrips_AndAClearRemovesTheEntry()
    {
        var (one, _) = ResidencyDocument.Empty.With(ResidencyScope.LogTopic, "payments", "eu", At, "root");
        var (two, tenant) = one.With(ResidencyScope.Tenant, "acme", "us", At, "root");
        var (three, cleared) = two.With(ResidencyScope.LogTopic, "payments", null, At, "ops");

        var decoded = ResidencyDocument.Decode(three.Encode());

        Assert.Equal(3, decoded.Version);
        Assert.Equal([tenant], decoded.Entries.Values);
        Assert.Equal((null, 3L), (cleared.Zone, cleared.Version));
        Assert.Equal(ResidencyDocument.FormatVersion, three.Encode()[0]);
    }

    [Fact]
    public void Document_RefusesTruncatedOrForeignBytes()
    {
        var (doc, _) = ResidencyDocument.Empty.With(ResidencyScope.EventTopic, "orders", "eu", At, "root");
        var bytes = doc.Encode();

        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => ResidencyDocument.Decode(bytes[..^1])).Error.Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => ResidencyDocument.Decode([9, .. bytes[1..]])).Error.Code);
    }

    [Fact]
    public void Cache_KeepsTheNewestVersion_WhateverTheArrivalOrder()
    {
        var cache = new ResidencyCache();
        var key = ResidencyResolver.Key(ResidencyScope.LogTopic, "payments");

        cache.Apply([(key, 5L, (string?)"eu")]);
        cache.Apply([(key, 3L, (string?)"us")]);
        Assert.Equal("eu", cache.ZoneOf(ResidencyScope.LogTopic, "payments"));
        Assert.Null(cache.ZoneOf(ResidencyScope.EventTopic, "payments"));

        cache.Apply([(key, 6L, (string?)null)]);
        cache.Apply([(key, 5L, (string?)"eu")]);
        Assert.Null(cache.ZoneOf(ResidencyScope.LogTopic, "payments"));
        Assert.Equal(0, cache.Count);
    }
}
