namespace ForgeOne.Common.Model;

/// <summary>
/// Metadata of a stored blob. <see cref="Checksum"/> is SHA-256 over the whole plaintext;
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
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>One chunk of a blob. <see cref="Checksum"/> is the XXH3-128 of the chunk's plaintext (16 bytes).</summary>
public sealed record BlobChunk(RecordId BlobId, int ChunkIndex, byte[] Data, byte[] Checksum);
