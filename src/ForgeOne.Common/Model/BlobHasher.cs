using System.IO.Hashing;
using System.Security.Cryptography;

namespace ForgeOne.Common.Model;

/// <summary>
/// The whole-blob checksum, fed chunk by chunk in order, so neither upload nor download ever
/// holds the blob. Blobs are checksummed with XXH3-128 (16 bytes, the same value as
/// <c>xxhsum -H2</c> / <c>xxh128sum</c> prints for the file); blobs stored before that carry a
/// SHA-256 (32 bytes) and are verified with it: the stored length says which.
/// Like the chunk checksum this need not be cryptographic: it catches a chunk lost, repeated or
/// damaged anywhere between the client's stream and the client's destination, while tampering
/// at rest is caught by the AES-GCM tag of every chunk (bound to blob id and chunk number) and of
/// the metadata (which holds size, chunk count and this checksum). SHA-256 cost ~0.7 ms per MiB
/// in order, on the shard's thread during an upload and on the client's during a download;
/// XXH3-128 costs ~0.05 ms. Single use: <see cref="Finish"/> or <see cref="Verify"/> once.
/// </summary>
public sealed class BlobHasher : IDisposable
{
    /// <summary>Length of the whole-blob checksum written (XXH3-128).</summary>
    public const int ChecksumLength = 16;

    /// <summary>Length of the whole-blob checksum of blobs stored before XXH3-128 (SHA-256), still verified.</summary>
    public const int Sha256ChecksumLength = 32;

    private readonly XxHash128? _xxh;
    private readonly IncrementalHash? _sha256;
    private bool _finished;

    /// <summary>A hasher of the checksum written today (XXH3-128).</summary>
    public BlobHasher()
        : this(new XxHash128(), null)
    {
    }

    private BlobHasher(XxHash128? xxh, IncrementalHash? sha256)
    {
        _xxh = xxh;
        _sha256 = sha256;
    }

    /// <summary>Plaintext bytes appended so far (the blob's size once all chunks are in).</summary>
    public long Length { get; private set; }

    /// <summary>
    /// A hasher of the algorithm that produced <paramref name="storedChecksum"/>; throws
    /// <see cref="ForgeOneException"/> (<see cref="ErrorCodes.StorageCorruptRecord"/>) for a length no algorithm has.
    /// </summary>
    public static BlobHasher For(ReadOnlySpan<byte> storedChecksum) => storedChecksum.Length switch
    {
        ChecksumLength => new BlobHasher(),
        Sha256ChecksumLength => new BlobHasher(null, IncrementalHash.CreateHash(HashAlgorithmName.SHA256)),
        _ => throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"A whole-blob checksum of {storedChecksum.Length} bytes matches no algorithm (16: XXH3-128, 32: SHA-256)."),
    };

    /// <summary>The XXH3-128 checksum of <paramref name="blob"/> as a whole (what an upload of it records).</summary>
    public static byte[] Of(ReadOnlySpan<byte> blob) => XxHash128.Hash(blob);

    /// <summary>Appends the next plaintext chunk.</summary>
    public void Append(ReadOnlySpan<byte> plain)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (_xxh is not null)
        {
            _xxh.Append(plain);
        }
        else
        {
            _sha256!.AppendData(plain);
        }

        Length += plain.Length;
    }

    /// <summary>An independent hasher positioned where this one is (the cache of uploads in flight keeps these as snapshots).</summary>
    public BlobHasher Clone()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        return new BlobHasher(_xxh?.Clone(), _sha256?.Clone()) { Length = Length };
    }

    /// <summary>The checksum of everything appended.</summary>
    public byte[] Finish()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        _finished = true;
        return _xxh is not null ? _xxh.GetCurrentHash() : _sha256!.GetHashAndReset();
    }

    /// <summary>
    /// Finishes and compares with the stored whole-blob checksum; throws
    /// <see cref="ForgeOneException"/> with <see cref="ErrorCodes.ChecksumMismatch"/> when they differ.
    /// </summary>
    public void Verify(ReadOnlySpan<byte> expected)
    {
        if (!CryptographicOperations.FixedTimeEquals(Finish(), expected))
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, "The blob does not match its whole-blob checksum.");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _sha256?.Dispose();
}
