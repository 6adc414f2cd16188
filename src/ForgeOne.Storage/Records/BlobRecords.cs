using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Storage.Records;

/// <summary>
/// Where a blob is in its life. Stored on disk: never renumber.
/// <code>
///   Uploading --last chunk committed--> Complete --delete--> Deleted (tombstone)
///       |                                                       ^
///       +----------------abandoned upload cleaned up------------+
/// </code>
/// Only <see cref="Complete"/> blobs are visible to readers.
/// </summary>
public enum BlobState : byte
{
    Uploading = 0,
    Complete = 1,
    Deleted = 2,
}

/// <summary>
/// Blob metadata as stored in <c>blob_metadata</c>. <see cref="Name"/> and
/// <see cref="Metadata"/> are field ciphertext. <see cref="Checksum"/> is the whole plaintext's
/// checksum (<see cref="BlobHasher"/>: XXH3-128, or SHA-256 for blobs stored before; empty until the upload completes). <see cref="ChunkSize"/> is the plaintext size
/// of every chunk but the last, so a range read finds its first chunk by division.
/// A delete keeps this record as an audited tombstone (<see cref="BlobState.Deleted"/>,
/// <see cref="DeletedAt"/>, <see cref="DeletedBy"/>) while the chunks are destroyed.
/// </summary>
public sealed record StoredBlobMetadata(
    RecordId Id,
    byte[] Name,
    string ContentType,
    long Size,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    byte[] Checksum,
    bool Encrypted,
    bool Compressed,
    int ChunkCount,
    int ChunkSize,
    byte[] Metadata,
    BlobState State,
    DateTimeOffset? DeletedAt,
    string? DeletedBy)
{
    /// <summary>True for a deleted blob's tombstone.</summary>
    public bool IsTombstone => State == BlobState.Deleted;

    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.BlobMetadata);
        w.WriteId(Id);
        w.WriteBytes(Name);
        w.WriteString(ContentType);
        w.WriteInt64(Size);
        w.WriteTimestamp(CreatedAt);
        w.WriteString(CreatedBy);
        w.WriteBytes(Checksum);
        w.WriteBool(Encrypted);
        w.WriteBool(Compressed);
        w.WriteInt32(ChunkCount);
        w.WriteInt32(ChunkSize);
        w.WriteBytes(Metadata);
        w.WriteByte((byte)State);
        w.WriteOptionalTimestamp(DeletedAt);
        w.WriteOptionalString(DeletedBy);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static StoredBlobMetadata Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.BlobMetadata);
        var blob = new StoredBlobMetadata(
            r.ReadId(),
            r.ReadBytes(),
            r.ReadString(),
            r.ReadNonNegativeInt64("size"),
            r.ReadTimestamp(),
            r.ReadString(),
            r.ReadBytes(),
            r.ReadBool(),
            r.ReadBool(),
            r.ReadNonNegativeInt32("chunk count"),
            r.ReadNonNegativeInt32("chunk size"),
            r.ReadBytes(),
            r.ReadEnum<BlobState>(),
            r.ReadOptionalTimestamp(),
            r.ReadOptionalString());
        r.End();
        return blob;
    }
}
