using ForgeOne.Common;

namespace ForgeOne.Storage.Records.Tests;

public class MetadataCodecTests
{
    [Fact]
    public void Encode_IsCanonical_WhateverTheInsertionOrder()
    {
        var a = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        var b = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };

        Assert.Equal(MetadataCodec.Encode(a), MetadataCodec.Encode(b));
        Assert.Equal("01" + "00000002" + "00000001" + "61" + "00000001" + "31" + "00000001" + "62" + "00000001" + "32",
            Convert.ToHexStringLower(MetadataCodec.Encode(a)));
    }

    [Fact]
    public void Encode_SortsOrdinallyNotByCulture()
    {
        var bytes = MetadataCodec.Encode(new Dictionary<string, string> { ["a"] = "", ["B"] = "" });
        Assert.Equal(["B", "a"], MetadataCodec.Decode(bytes).Keys.Order(StringComparer.Ordinal));
        Assert.Equal((byte)'B', bytes[9]);
    }

    [Fact]
    public void Roundtrip_KeepsEveryPair()
    {
        var map = new Dictionary<string, string> { ["région"] = "eu-west", ["empty"] = "", ["emoji"] = "🔒" };
        Assert.Equal(map.OrderBy(kv => kv.Key, StringComparer.Ordinal), MetadataCodec.Decode(MetadataCodec.Encode(map)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Decode_RefusesUnsortedOrDuplicateKeys()
    {
        // Hand-built: keys "b" then "a".
        byte[] unsorted = [1, 0, 0, 0, 2, 0, 0, 0, 1, (byte)'b', 0, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0];
        byte[] duplicate = [1, 0, 0, 0, 2, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0];

        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => MetadataCodec.Decode(unsorted)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => MetadataCodec.Decode(duplicate)).Code);
    }

    [Fact]
    public void Decode_RefusesACountThatCannotFit()
    {
        byte[] bytes = [1, 0x10, 0, 0, 0];
        var ex = Assert.Throws<ForgeOneException>(() => MetadataCodec.Decode(bytes));
        Assert.Contains("cannot fit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesAnUnknownVersion()
    {
        Assert.Equal(ErrorCodes.StorageUnknownFormat, Assert.Throws<ForgeOneException>(() => MetadataCodec.Decode([2, 0, 0, 0, 0])).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => MetadataCodec.Decode([])).Code);
    }
}
