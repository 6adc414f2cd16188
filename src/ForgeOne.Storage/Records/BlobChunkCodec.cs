using System.IO.Hashing;
using System.Security.Cryptography;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using K4os.Compression.LZ4;

namespace ForgeOne.Storage.Records;

/// <summary>What <see cref="BlobChunkCodec.Pack"/> wrote: the frame length, whether LZ4 was kept, and the plaintext checksum (XXH3-128).</summary>
public readonly record struct PackedChunk(int Length, bool Compressed, byte[] Checksum);

/// <summary>What <see cref="BlobChunkCodec.Unpack"/> wrote: the plaintext length, whether the frame was compressed, and the verified checksum.</summary>
public readonly record struct UnpackedChunk(int Length, bool Compressed, byte[] Checksum);

/// <summary>
/// Turns one plaintext blob chunk into the frame that the blob shard encrypts and stores, and back.
/// <code>
///   upload:   plain --Pack--> frame --RecordCipher.Encrypt--> blob_chunks[(id, n)]
///   download: blob_chunks[(id, n)] --RecordCipher.Decrypt--> frame --Unpack--> plain (checksum verified)
///
///   frame v2 = u8 version (2) | u8 flags (bit 0: LZ4) | XXH3-128 of the plaintext (16) | payload
///   frame v1 = u8 version (1) | u8 flags (bit 0: LZ4) | SHA-256 of the plaintext (32)  | payload   (read only)
/// </code>
/// The chunk checksum catches a compression, copy or transport fault between the client's bytes
/// and the stored frame; tampering and bit rot at rest are caught first by the AES-GCM tag around
/// the frame. So it need not be cryptographic, and XXH3-128 costs ~0.05 ms per MiB where SHA-256
/// cost ~0.7 ms, which was the largest single cost of a chunk. The whole blob has its own
/// checksum (<see cref="BlobHasher"/>). The checksum travels inside the frame, so it is encrypted with the
/// data: a plaintext hash in clear would let anyone holding the file confirm a guess of a chunk's content.
/// LZ4 (fast level) is kept only when it makes the chunk smaller, so incompressible data
/// (media, already-compressed files) costs one failed attempt and no expansion.
/// The codec never allocates a chunk-sized buffer: callers pass spans (typically rented from
/// <see cref="System.Buffers.ArrayPool{T}"/> once per upload or download), so memory stays flat
/// whatever the blob size.
/// </summary>
public sealed class BlobChunkCodec
{
    /// <summary>The frame format version written.</summary>
    public const byte FormatVersion = 2;

    /// <summary>Length of a chunk checksum (XXH3-128).</summary>
    public const int ChecksumLength = 16;

    /// <summary>Bytes in front of the payload of a frame this codec writes.</summary>
    public const int HeaderLength = 2 + ChecksumLength;

    // Version 1 frames (SHA-256 chunk checksums) are still read.
    private const byte Sha256FormatVersion = 1;
    private const int Sha256ChecksumLength = 32;

    /// <summary>The default chunk size of an upload (1 MiB).</summary>
    public const int DefaultChunkSize = 1024 * 1024;

    /// <summary>The largest chunk size a codec can be configured with (64 MiB).</summary>
    public const int MaxConfigurableChunkSize = 64 * 1024 * 1024;

    private const byte CompressedFlag = 0x01;

    /// <summary>Creates a codec for chunks of at most <paramref name="maxChunkSize"/> plaintext bytes.</summary>
    public BlobChunkCodec(int maxChunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChunkSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxChunkSize, MaxConfigurableChunkSize);
        MaxChunkSize = maxChunkSize;
    }

    /// <summary>
    /// The largest plaintext chunk packed or unpacked. Unpack never writes more than this,
    /// whatever a (possibly hostile) compressed payload would expand to.
    /// </summary>
    public int MaxChunkSize { get; }

    /// <summary>The destination size <see cref="Pack"/> needs for a chunk of <paramref name="plainLength"/> bytes.</summary>
    public static int MaxPackedLength(int plainLength) => HeaderLength + plainLength;

    /// <summary>
    /// Writes the frame for <paramref name="plain"/> into <paramref name="destination"/> (at
    /// least <see cref="MaxPackedLength"/> bytes). The caller encrypts
    /// <c>destination[..result.Length]</c> and stores it.
    /// </summary>
    public PackedChunk Pack(ReadOnlySpan<byte> plain, Span<byte> destination)
    {
        if (plain.Length > MaxChunkSize)
        {
            throw new ForgeOneException(ErrorCodes.ChunkTooLarge, $"A chunk is at most {MaxChunkSize} bytes; this one is {plain.Length}.");
        }

        if (destination.Length < MaxPackedLength(plain.Length))
        {
            throw new ArgumentException($"destination needs {MaxPackedLength(plain.Length)} bytes", nameof(destination));
        }

        var checksum = Checksum(plain);
        destination[0] = FormatVersion;
        checksum.CopyTo(destination[2..]);
        var payload = destination[HeaderLength..];

        // Give LZ4 one byte less than the plaintext: it reports failure (<= 0) instead of
        // producing output that would not be smaller, so we never compress twice or copy twice.
        var compressedLength = plain.Length > 1 ? LZ4Codec.Encode(plain, payload[..(plain.Length - 1)], LZ4Level.L00_FAST) : 0;
        if (compressedLength > 0)
        {
            destination[1] = CompressedFlag;
            return new PackedChunk(HeaderLength + compressedLength, true, checksum);
        }

        destination[1] = 0;
        plain.CopyTo(payload);
        return new PackedChunk(HeaderLength + plain.Length, false, checksum);
    }

    /// <summary>
    /// Decodes a frame (already decrypted) into <paramref name="destination"/>, which must hold
    /// <see cref="MaxChunkSize"/> bytes, and verifies the plaintext checksum. Throws
    /// <see cref="ForgeOneException"/>: <see cref="ErrorCodes.StorageUnknownFormat"/> for another
    /// frame version, <see cref="ErrorCodes.StorageCorruptRecord"/> for a malformed frame or one
    /// that would expand beyond <see cref="MaxChunkSize"/>, <see cref="ErrorCodes.ChecksumMismatch"/>
    /// when the plaintext is not what was packed.
    /// </summary>
    public UnpackedChunk Unpack(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        if (destination.Length < MaxChunkSize)
        {
            throw new ArgumentException($"destination needs {MaxChunkSize} bytes (the codec's max chunk size)", nameof(destination));
        }

        var checksumLength = ChecksumLengthOf(frame);
        var headerLength = 2 + checksumLength;

        var flags = frame[1];
        if ((flags & ~CompressedFlag) != 0)
        {
            throw Corrupt($"unknown flags {flags:x2}");
        }

        var compressed = flags == CompressedFlag;
        var expected = frame.Slice(2, checksumLength);
        var payload = frame[headerLength..];
        var bounded = destination[..MaxChunkSize];
        int length;
        if (compressed)
        {
            // Decode into at most MaxChunkSize bytes: the payload's own idea of its size is not
            // trusted, so a decompression bomb fails here instead of allocating or overrunning.
            length = DecodeLz4(payload, bounded);
            if (length <= 0)
            {
                throw Corrupt($"compressed payload is malformed or expands beyond {MaxChunkSize} bytes");
            }
        }
        else
        {
            if (payload.Length > MaxChunkSize)
            {
                throw Corrupt($"payload of {payload.Length} bytes exceeds the {MaxChunkSize}-byte chunk size");
            }

            payload.CopyTo(bounded);
            length = payload.Length;
        }

        var actual = checksumLength == ChecksumLength ? Checksum(bounded[..length]) : SHA256.HashData(bounded[..length]);
        if (!CryptographicOperations.FixedTimeEquals(actual, expected))
        {
            throw new ForgeOneException(ErrorCodes.ChecksumMismatch, "A blob chunk does not match its checksum.");
        }

        return new UnpackedChunk(length, compressed, actual);
    }

    /// <summary>The checksum <see cref="Pack"/> stores for <paramref name="plain"/> (XXH3-128, 16 bytes).</summary>
    public static byte[] Checksum(ReadOnlySpan<byte> plain) => XxHash128.Hash(plain);

    /// <summary>The plaintext checksum stored in a (decrypted) frame of either version, without unpacking it.</summary>
    public static byte[] StoredChecksum(ReadOnlySpan<byte> frame) => frame.Slice(2, ChecksumLengthOf(frame)).ToArray();

    /// <summary>Checks the version and length of a frame's header; returns the checksum length of its version.</summary>
    private static int ChecksumLengthOf(ReadOnlySpan<byte> frame)
    {
        var checksumLength = frame.IsEmpty ? 0 : frame[0] switch
        {
            FormatVersion => ChecksumLength,
            Sha256FormatVersion => Sha256ChecksumLength,
            _ => throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"blob chunk format version {frame[0]} is unknown (this code reads versions {Sha256FormatVersion} and {FormatVersion})"),
        };
        return frame.Length >= 2 + checksumLength && checksumLength > 0
            ? checksumLength
            : throw Corrupt($"{frame.Length} bytes is shorter than the frame header");
    }

    private static int DecodeLz4(ReadOnlySpan<byte> payload, Span<byte> target)
    {
        try
        {
            return LZ4Codec.Decode(payload, target);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            // The decoder is the safe variant and reports bad input as -1; this is belt and braces.
            return -1;
        }
    }

    private static ForgeOneException Corrupt(string reason) => new(ErrorCodes.StorageCorruptRecord, $"corrupt blob chunk: {reason}");
}
