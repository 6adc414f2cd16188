namespace ForgeOne.Common.Model;

/// <summary>
/// Metadata of a stored blob. <see cref="Checksum"/> is over the whole plaintext: XXH3-128
/// (16 bytes, what <c>xxh128sum</c> prints) for blobs stored now, SHA-256 (32 bytes) for blobs
/// stored before (see <see cref="ChecksumAlgorithm"/>);
/// <see cref="Encrypted"/> and <see cref="Compressed"/> say how the chunks are stored
/// (compression is per chunk, used only where it shrinks the chunk).
/// </summary>
public sealed record BlobMetadata(
    RecordId Id,
    string Name,
    string ContentType,
    long Size,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    byte[] Checksum,
    bool Encrypted,
    bool Compressed,
    int ChunkCount,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary><c>xxh3-128</c> or <c>sha256</c> (blobs stored before XXH3-128): told apart by the checksum's length.</summary>
    public string ChecksumAlgorithm => Checksum.Length switch
    {
        16 => "xxh3-128",
        32 => "sha256",
        _ => "none",
    };
}

/// <summary>One chunk of a blob. <see cref="Checksum"/> is the XXH3-128 of the chunk's plaintext (16 bytes).</summary>
public sealed record BlobChunk(RecordId BlobId, int ChunkIndex, byte[] Data, byte[] Checksum);
