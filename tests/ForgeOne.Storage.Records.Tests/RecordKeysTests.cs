using ForgeOne.Common;
using FsCheck.Xunit;
using static ForgeOne.Storage.Records.Tests.Gen;

namespace ForgeOne.Storage.Records.Tests;

public class RecordKeysTests
{
    private static readonly byte[] TopicA = Token(0xA1);

    private static int Compare(byte[] a, byte[] b) => Math.Sign(a.AsSpan().SequenceCompareTo(b));

    [Fact]
    public void Primary_IsTheBigEndianId()
    {
        Assert.Equal("0123456789abcdef", Convert.ToHexStringLower(RecordKeys.Primary(new RecordId(0x0123_4567_89ab_cdef))));
        Assert.Equal(new RecordId(42), RecordKeys.ParsePrimary(RecordKeys.Primary(new RecordId(42))));
    }

    [Fact]
    public void TopicIndex_HasTheDocumentedLayout()
    {
        var key = RecordKeys.TopicIndex(TopicA, DateTimeOffset.FromUnixTimeMilliseconds(1), new RecordId(2));

        Assert.Equal(Convert.ToHexStringLower(TopicA) + "8000000000000001" + "0000000000000002", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void TopicIndex_SortsByTimeIncludingBefore1970()
    {
        long[] times = [-86_400_000, -1, 0, 1, 1_700_000_000_000];
        var keys = times.Select(ms => RecordKeys.TopicIndex(TopicA, DateTimeOffset.FromUnixTimeMilliseconds(ms), new RecordId(9))).ToList();

        var sorted = keys.OrderBy(k => k, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();

        Assert.Equal(keys, sorted);
        Assert.Equal(times, sorted.Select(k => RecordKeys.ParseTopicIndex(k).Timestamp.ToUnixTimeMilliseconds()));
    }

    [Property(MaxTest = 500)]
    public void TopicIndex_ByteOrderIsTimeThenIdOrder(int ms1, ulong id1, int ms2, ulong id2)
    {
        var a = RecordKeys.TopicIndex(TopicA, DateTimeOffset.FromUnixTimeMilliseconds(ms1), new RecordId(id1));
        var b = RecordKeys.TopicIndex(TopicA, DateTimeOffset.FromUnixTimeMilliseconds(ms2), new RecordId(id2));

        Assert.Equal(Math.Sign((ms1, id1).CompareTo((ms2, id2))), Compare(a, b));
    }

    [Fact]
    public void TopicIndexBounds_SelectExactlyTheHalfOpenRange()
    {
        var from = DateTimeOffset.FromUnixTimeMilliseconds(1000);
        var until = DateTimeOffset.FromUnixTimeMilliseconds(2000);
        var lower = RecordKeys.TopicIndexFrom(TopicA, from);
        var upper = RecordKeys.TopicIndexUntil(TopicA, until);

        bool InRange(long ms, ulong id)
        {
            var key = RecordKeys.TopicIndex(TopicA, DateTimeOffset.FromUnixTimeMilliseconds(ms), new RecordId(id));
            return Compare(key, lower) >= 0 && Compare(key, upper) < 0;
        }

        Assert.True(InRange(1000, 0));
        Assert.True(InRange(1999, ulong.MaxValue));
        Assert.False(InRange(999, ulong.MaxValue));
        Assert.False(InRange(2000, 0));
        Assert.True(Compare(RecordKeys.TopicIndex(Token(0xA2), from, default), upper) > 0); // another topic is outside
    }

    [Fact]
    public void ParseTopicIndex_RefusesAKeyOfTheWrongLength()
    {
        var ex = Assert.Throws<ForgeOneException>(() => RecordKeys.ParseTopicIndex(new byte[31]));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
    }

    [Fact]
    public void BlobChunk_SortsByBlobThenChunk()
    {
        var key = RecordKeys.BlobChunk(new RecordId(5), 258);

        Assert.Equal("0000000000000005" + "00000102", Convert.ToHexStringLower(key));
        Assert.Equal((new RecordId(5), 258), RecordKeys.ParseBlobChunk(key));
        Assert.True(Compare(RecordKeys.BlobChunk(new RecordId(5), 9), RecordKeys.BlobChunk(new RecordId(5), 10)) < 0);
        Assert.True(key.AsSpan().StartsWith(RecordKeys.BlobChunkPrefix(new RecordId(5))));
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordKeys.BlobChunk(new RecordId(5), -1));
        Assert.Equal(ErrorCodes.StorageCorruptRecord,
            Assert.Throws<ForgeOneException>(() => RecordKeys.ParseBlobChunk(Convert.FromHexString("0000000000000005FFFFFFFF"))).Code);
    }

    [Fact]
    public void BlobIndex_NameAndContentTypeEntriesNeverShareAPrefix()
    {
        var token = Token(0x33);
        var byName = RecordKeys.BlobNameIndex(token, new RecordId(7));
        var byType = RecordKeys.BlobContentTypeIndex(token, new RecordId(7));

        Assert.Equal(RecordKeys.BlobIndexLength, byName.Length);
        Assert.True(byName.AsSpan().StartsWith(RecordKeys.BlobNameIndexPrefix(token)));
        Assert.False(byType.AsSpan().StartsWith(RecordKeys.BlobNameIndexPrefix(token)));
        Assert.True(byType.AsSpan().StartsWith(RecordKeys.BlobContentTypeIndexPrefix(token)));
        Assert.Equal(new RecordId(7), RecordKeys.ParseBlobIndex(byType));
    }

    [Fact]
    public void Checkpoint_OrdersVersionsAndSeparatesNamesThatArePrefixesOfEachOther()
    {
        var v1 = RecordKeys.Checkpoint(TopicA, "a", 1);
        var v2 = RecordKeys.Checkpoint(TopicA, "a", 2);
        var other = RecordKeys.Checkpoint(TopicA, "ab", 1);

        Assert.Equal(Convert.ToHexStringLower(TopicA) + "0001" + "61" + "0000000000000001", Convert.ToHexStringLower(v1));
        Assert.True(Compare(v1, v2) < 0);
        Assert.False(other.AsSpan().StartsWith(RecordKeys.CheckpointPrefix(TopicA, "a")));
        Assert.Equal(("ab", 1L), RecordKeys.ParseCheckpoint(other));
        Assert.Throws<ArgumentException>(() => RecordKeys.Checkpoint(TopicA, new string('x', RecordKeys.MaxCheckpointNameBytes + 1), 0));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => RecordKeys.ParseCheckpoint(v1[..^1])).Code);
    }

    [Fact]
    public void ConsumerOffsetAndSettingHistory_HaveFixedLayouts()
    {
        Assert.Equal([.. Token(1), .. Token(2)], RecordKeys.ConsumerOffset(Token(1), Token(2)));

        var v3 = RecordKeys.SettingHistory(Token(4), 3);
        Assert.Equal(Convert.ToHexStringLower(Token(4)) + "0000000000000003", Convert.ToHexStringLower(v3));
        Assert.Equal(3, RecordKeys.ParseSettingVersion(v3));
        Assert.True(Compare(v3, RecordKeys.SettingHistory(Token(4), 256)) < 0);
    }

    [Fact]
    public void Builders_RefuseATokenOfTheWrongLength()
    {
        var ex = Assert.Throws<ArgumentException>(() => RecordKeys.TopicIndex(new byte[15], DateTimeOffset.UnixEpoch, default));
        Assert.Equal("topicToken", ex.ParamName);
        Assert.Throws<ArgumentException>(() => RecordKeys.ConsumerOffset(Token(1), new byte[17]));
    }

    [Fact]
    public void PrefixEnd_IsTheSmallestKeyAfterThePrefix()
    {
        Assert.Equal([1, 3], RecordKeys.PrefixEnd([1, 2]));
        Assert.Equal([2], RecordKeys.PrefixEnd([1, 0xFF]));
        Assert.Empty(RecordKeys.PrefixEnd([0xFF, 0xFF]));
    }

    [Fact]
    public void After_IsTheSmallestKeyGreaterThanTheKey()
    {
        Assert.Equal([1, 2, 0], RecordKeys.After([1, 2]));
        Assert.Equal([0xFF, 0], RecordKeys.After([0xFF]));
        byte[] key = [1, 2];
        byte[] longer = [1, 2, 0, 0];
        Assert.True(RecordKeys.After(key).AsSpan().SequenceCompareTo(key) > 0);
        Assert.True(RecordKeys.After(key).AsSpan().SequenceCompareTo(longer) < 0);
    }
}
