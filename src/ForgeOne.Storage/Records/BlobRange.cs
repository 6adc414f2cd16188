using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// Which chunks a byte-range read of a blob touches: chunks <see cref="FirstChunk"/> to
/// <see cref="LastChunk"/> inclusive, skipping <see cref="SkipInFirst"/> plaintext bytes of the
/// first and returning <see cref="Length"/> bytes in all. <see cref="IsEmpty"/> ranges read nothing.
/// Every chunk but the last holds exactly the blob's chunk size (<see cref="StoredBlobMetadata.ChunkSize"/>),
/// so the chunks are found by division, without reading any other chunk.
/// </summary>
public readonly record struct BlobRange(int FirstChunk, int LastChunk, int SkipInFirst, long Length)
{
    /// <summary>True when the range covers no bytes (zero length, or an offset at the end of the blob).</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>
    /// Plans a read of up to <paramref name="length"/> bytes from <paramref name="offset"/>
    /// (null length: to the end), clamped to the blob's end. An offset outside
    /// <c>[0, blobSize]</c> or a negative length is a client error
    /// (<see cref="ErrorCodes.InvalidArgument"/>).
    /// </summary>
    public static BlobRange Plan(long offset, long? length, long blobSize, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blobSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        if (offset < 0 || offset > blobSize)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Range offset {offset} is outside the blob (0..{blobSize}).");
        }

        if (length < 0)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"Range length {length} is negative.");
        }

        var take = Math.Min(length ?? long.MaxValue, blobSize - offset);
        if (take == 0)
        {
            return new BlobRange(0, -1, 0, 0);
        }

        var first = offset / chunkSize;
        var last = (offset + take - 1) / chunkSize;
        return new BlobRange(checked((int)first), checked((int)last), (int)(offset % chunkSize), take);
    }
}
