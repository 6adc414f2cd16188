using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using FsCheck.Xunit;

namespace ForgeOne.Storage.Records.Tests;

public class BlobChunkCodecTests
{
    private const int Mib = 1024 * 1024;
    private readonly BlobChunkCodec _codec = new(Mib);

    private static byte[] Compressible(int size) =>
        Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, (size / 16) + 1).Select(i => $"log line {i % 1000:D6}\n")))[..size];

    private static byte[] Incompressible(int size)
    {
        var bytes = new byte[size];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    private (PackedChunk Packed, byte[] Frame) Pack(byte[] plain)
    {
        var frame = new byte[BlobChunkCodec.MaxPackedLength(plain.Length)];
        var packed = _codec.Pack(plain, frame);
        return (packed, frame[..packed.Length]);
    }

    [Fact]
    public void Compressible_IsStoredCompressedAndRoundtrips()
    {
        var plain = Compressible(Mib);
        var (packed, frame) = Pack(plain);

        Assert.True(packed.Compressed);
        Assert.True(packed.Length < plain.Length / 2, $"packed to {packed.Length} bytes");
        Assert.Equal(System.IO.Hashing.XxHash128.Hash(plain), packed.Checksum);
        Assert.Equal(16, packed.Checksum.Length);
        Assert.Equal([BlobChunkCodec.FormatVersion, 1], frame[..2]);

        var output = new byte[_codec.MaxChunkSize];
        var unpacked = _codec.Unpack(frame, output);
        Assert.Equal((plain.Length, true), (unpacked.Length, unpacked.Compressed));
        Assert.Equal(plain, output[..unpacked.Length]);
        Assert.Equal(packed.Checksum, unpacked.Checksum);
    }

    [Fact]
    public void Incompressible_IsStoredRawWithOnlyTheHeaderAdded()
    {
        var plain = Incompressible(64 * 1024);
        var (packed, frame) = Pack(plain);

        Assert.False(packed.Compressed);
        Assert.Equal(BlobChunkCodec.HeaderLength + plain.Length, packed.Length);
        var output = new byte[_codec.MaxChunkSize];
        var unpacked = _codec.Unpack(frame, output);
        Assert.Equal(plain, output[..unpacked.Length]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void TinyChunks_Roundtrip(int size)
    {
        var plain = new byte[size];
        var (_, frame) = Pack(plain);
        var output = new byte[_codec.MaxChunkSize];

        Assert.Equal(size, _codec.Unpack(frame, output).Length);
    }

    [Fact]
    public void FlippedPayloadByte_IsAChecksumMismatch()
    {
        var (_, frame) = Pack(Incompressible(4096));
        frame[BlobChunkCodec.HeaderLength + 100] ^= 0x01;

        var ex = Assert.Throws<ForgeOneException>(() => _codec.Unpack(frame, new byte[_codec.MaxChunkSize]));
        Assert.Equal(ErrorCodes.ChecksumMismatch, ex.Code);
    }

    [Fact]
    public void FlippedChecksumByteOfACompressedChunk_IsAChecksumMismatch()
    {
        var (_, frame) = Pack(Compressible(4096));
        frame[2] ^= 0x80;

        Assert.Equal(ErrorCodes.ChecksumMismatch, Assert.Throws<ForgeOneException>(() => _codec.Unpack(frame, new byte[_codec.MaxChunkSize])).Code);
    }

    [Fact]
    public void DecompressionBomb_IsRefusedWithoutExpandingPastTheMaxChunkSize()
    {
        // 1 MiB of zeros packs to a few KiB; a reader configured for 64 KiB chunks must not expand it.
        var (packed, frame) = Pack(new byte[Mib]);
        Assert.True(packed.Compressed);
        var small = new BlobChunkCodec(64 * 1024);

        var ex = Assert.Throws<ForgeOneException>(() => small.Unpack(frame, new byte[64 * 1024]));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("expands beyond 65536", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizedRawPayload_IsRefused()
    {
        var frame = new byte[BlobChunkCodec.HeaderLength + 65];
        frame[0] = BlobChunkCodec.FormatVersion;

        var ex = Assert.Throws<ForgeOneException>(() => new BlobChunkCodec(64).Unpack(frame, new byte[64]));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
    }

    [Fact]
    public void Pack_RefusesAChunkLargerThanTheMaximum()
    {
        var codec = new BlobChunkCodec(16);
        var ex = Assert.Throws<ForgeOneException>(() => codec.Pack(new byte[17], new byte[100]));
        Assert.Equal(ErrorCodes.ChunkTooLarge, ex.Code);
    }

    [Fact]
    public void Unpack_RefusesUnknownVersionFlagsAndShortFrames()
    {
        var (_, frame) = Pack(Compressible(100));
        var output = new byte[_codec.MaxChunkSize];

        Assert.Equal(ErrorCodes.StorageUnknownFormat, Assert.Throws<ForgeOneException>(() => _codec.Unpack([3, .. frame[1..]], output)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => _codec.Unpack([frame[0], 4, .. frame[2..]], output)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => _codec.Unpack(frame[..17], output)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => _codec.Unpack([], output)).Code);
    }

    [Fact]
    public void Version1Frames_WithSha256Checksums_StillUnpackAndVerify()
    {
        // A v1 frame as earlier builds wrote it: version 1, flags, SHA-256 of the plaintext, raw payload.
        var plain = Incompressible(5000);
        byte[] frame = [1, 0, .. SHA256.HashData(plain), .. plain];
        var output = new byte[_codec.MaxChunkSize];

        var unpacked = _codec.Unpack(frame, output);
        Assert.Equal(plain, output[..unpacked.Length]);
        Assert.Equal(SHA256.HashData(plain), BlobChunkCodec.StoredChecksum(frame));

        frame[^1] ^= 0x01;
        Assert.Equal(ErrorCodes.ChecksumMismatch, Assert.Throws<ForgeOneException>(() => _codec.Unpack(frame, output)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => _codec.Unpack(frame[..33], output)).Code);
    }

    [Fact]
    public void PackAndUnpack_DoNotAllocateChunkSizedBuffers()
    {
        var plain = Compressible(Mib);
        var frame = new byte[BlobChunkCodec.MaxPackedLength(Mib)];
        var output = new byte[Mib];
        _codec.Unpack(frame[.._codec.Pack(plain, frame).Length], output); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var packed = _codec.Pack(plain, frame);
        _codec.Unpack(frame.AsSpan(0, packed.Length), output);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for a 1 MiB chunk");
    }

    [Property(MaxTest = 1000)]
    public void Unpack_RandomFrames_RaiseOnlyForgeOneException(byte flags, byte[] payload)
    {
        var codec = new BlobChunkCodec(4096);
        byte[] frame = [BlobChunkCodec.FormatVersion, (byte)(flags % 3), .. new byte[32], .. Gen.B(payload)];
        try
        {
            codec.Unpack(frame, new byte[4096]);
        }
        catch (ForgeOneException ex)
        {
            Assert.True(ex.Code is ErrorCodes.StorageCorruptRecord or ErrorCodes.ChecksumMismatch, ex.Code);
        }
    }

    [Fact]
    public void BlobHasher_OverChunksEqualsTheXxh128OfTheWhole()
    {
        var blob = Compressible(3 * 1000 + 7);
        using var hasher = new BlobHasher();
        foreach (var chunk in blob.Chunk(1000))
        {
            hasher.Append(chunk);
        }

        Assert.Equal(blob.Length, hasher.Length);
        Assert.Equal(System.IO.Hashing.XxHash128.Hash(blob), hasher.Finish());
        Assert.Equal(BlobHasher.ChecksumLength, BlobHasher.Of(blob).Length);
    }

    [Fact]
    public void BlobHasher_GivesWhatXxh128sumPrints()
    {
        // Canonical (big-endian) XXH3-128 values, as `xxh128sum` prints them for "" and "abc".
        Assert.Equal("99aa06d3014798d86001c324468d497f", Convert.ToHexStringLower(BlobHasher.Of([])));
        Assert.Equal("06b05ab6733a618578af5f94892f3950", Convert.ToHexStringLower(BlobHasher.Of("abc"u8)));
    }

    [Fact]
    public void BlobHasher_ClonesAreIndependent()
    {
        using var hasher = new BlobHasher();
        hasher.Append([1, 2, 3]);
        using var clone = hasher.Clone();
        clone.Append([4]);

        Assert.Equal(BlobHasher.Of([1, 2, 3]), hasher.Finish());
        Assert.Equal(BlobHasher.Of([1, 2, 3, 4]), clone.Finish());
        Assert.Equal(4, clone.Length);
    }

    [Fact]
    public void BlobHasher_ForAStoredSha256_VerifiesWithSha256()
    {
        // Blobs stored before XXH3-128 carry a 32-byte SHA-256 and still verify.
        var blob = Compressible(2500);
        using (var hasher = BlobHasher.For(SHA256.HashData(blob)))
        {
            foreach (var chunk in blob.Chunk(1000))
            {
                hasher.Append(chunk);
            }

            hasher.Verify(SHA256.HashData(blob));
        }

        using var wrong = BlobHasher.For(SHA256.HashData(blob));
        wrong.Append(blob.AsSpan(1));
        Assert.Equal(ErrorCodes.ChecksumMismatch, Assert.Throws<ForgeOneException>(() => wrong.Verify(SHA256.HashData(blob))).Code);
    }

    [Fact]
    public void BlobHasher_ForAChecksumOfNoKnownLength_IsACorruptRecord()
    {
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => BlobHasher.For(new byte[20])).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => BlobHasher.For([])).Code);
    }

    [Fact]
    public void BlobHasher_VerifyThrowsOnMismatch()
    {
        using var hasher = new BlobHasher();
        hasher.Append([1, 2, 3]);

        var ex = Assert.Throws<ForgeOneException>(() => hasher.Verify(new byte[16]));
        Assert.Equal(ErrorCodes.ChecksumMismatch, ex.Code);
    }
}
