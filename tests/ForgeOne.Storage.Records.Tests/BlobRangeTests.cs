using ForgeOne.Common;

namespace ForgeOne.Storage.Records.Tests;

public class BlobRangeTests
{
    // A 2,500-byte blob in 1,000-byte chunks: [0..999] [1000..1999] [2000..2499].
    private const long Size = 2500;
    private const int Chunk = 1000;

    [Theory]
    [InlineData(0, null, 0, 2, 0, 2500)]
    [InlineData(999, 2L, 0, 1, 999, 2)]
    [InlineData(1000, 1000L, 1, 1, 0, 1000)]
    [InlineData(2400, 500L, 2, 2, 400, 100)]
    [InlineData(1500, 1L, 1, 1, 500, 1)]
    public void Plan_FindsTheChunksByDivision(long offset, long? length, int first, int last, int skip, long take)
    {
        Assert.Equal(new BlobRange(first, last, skip, take), BlobRange.Plan(offset, length, Size, Chunk));
    }

    [Fact]
    public void Plan_AtTheEndOrWithZeroLength_IsEmpty()
    {
        Assert.True(BlobRange.Plan(Size, null, Size, Chunk).IsEmpty);
        Assert.True(BlobRange.Plan(10, 0, Size, Chunk).IsEmpty);
        Assert.True(BlobRange.Plan(0, null, 0, Chunk).IsEmpty);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(2501, null)]
    [InlineData(0, -5L)]
    public void Plan_RefusesRangesOutsideTheBlob(long offset, long? length)
    {
        var ex = Assert.Throws<ForgeOneException>(() => BlobRange.Plan(offset, length, Size, Chunk));
        Assert.Equal(ErrorCodes.InvalidArgument, ex.Code);
    }
}
