using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using K4os.Compression.LZ4;

namespace ForgeOne.Backup;

/// <summary>
/// The plaintext header of a backup file: which backup, which shard, and the page stream's
/// shape. Every chunk's associated data binds the SHA-256 of these bytes, so a file moved under
/// another name, or a header edited, does not decrypt.
/// </summary>
/// <param name="BackupId">The backup the file belongs to.</param>
/// <param name="Name">The shard (<see cref="ShardRef.Name"/>).</param>
/// <param name="PageSize">LMDB page size of the shard file.</param>
/// <param name="TxnId">The snapshot's transaction id.</param>
/// <param name="SinceTxnId">Pages written after this transaction are in the file (0: a full copy).</param>
/// <param name="NextPage">The snapshot spans pages 0 .. NextPage-1.</param>
/// <param name="ChunkSize">Largest plaintext chunk.</param>
public sealed record BackupFileHeader(string BackupId, string Name, int PageSize, ulong TxnId, ulong SinceTxnId, ulong NextPage, int ChunkSize);

/// <summary>What was written: the file's size and SHA-256 (over every stored byte) and the plaintext bytes it carries.</summary>
public sealed record BackupFileResult(long Size, byte[] Sha256, long PlainBytes, int Chunks);

/// <summary>
/// Backup file format 1 (big-endian):
/// <code>
///   header  "FOBK" | u8 format=1 | u8 compression=1 (LZ4 block per chunk) | u8 cipher=1 (AES-256-GCM) | u8 0
///           | u16+utf8 backup id | u16+utf8 name | u32 page size | u64 txnid | u64 since | u64 next page | u32 chunk size
///   chunk   u32 plain length | u32 stored length | u8 flags (1 compressed, 2 last) | 12 nonce | 16 tag | stored bytes
/// </code>
/// A chunk is its plaintext, LZ4-compressed when that saves space, then AES-256-GCM with the
/// backup's data key and a random nonce; associated data = SHA-256(header) | u64 chunk index |
/// flags | both lengths. So a chunk moved, dropped, repeated or cut off (the last one carries
/// flag 2, and nothing may follow it) fails authentication, and so does a file renamed into
/// another backup or shard. The file's SHA-256 over all its bytes is recorded in the manifest,
/// so a copy is checked without the key.
/// </summary>
public static class BackupFile
{
    /// <summary>The format written.</summary>
    public const byte Format = 1;

    /// <summary>Default plaintext chunk: large enough that per-chunk costs vanish, small enough to stream.</summary>
    public const int DefaultChunkSize = 1 << 20;

    internal const byte FlagCompressed = 1;
    internal const byte FlagLast = 2;
    internal const int ChunkHeader = 4 + 4 + 1 + 12 + 16;
    private static readonly byte[] Magic = "FOBK"u8.ToArray();

    /// <summary>Encodes a header.</summary>
    public static byte[] EncodeHeader(BackupFileHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var id = Encoding.UTF8.GetBytes(header.BackupId);
        var name = Encoding.UTF8.GetBytes(header.Name);
        var buffer = new byte[8 + 2 + id.Length + 2 + name.Length + 4 + 8 + 8 + 8 + 4];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        span[4] = Format;
        span[5] = 1;
        span[6] = 1;
        var at = 8;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], checked((ushort)id.Length));
        id.CopyTo(span[(at + 2)..]);
        at += 2 + id.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], checked((ushort)name.Length));
        name.CopyTo(span[(at + 2)..]);
        at += 2 + name.Length;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], header.PageSize);
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 4)..], header.TxnId);
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 12)..], header.SinceTxnId);
        BinaryPrimitives.WriteUInt64BigEndian(span[(at + 20)..], header.NextPage);
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 28)..], header.ChunkSize);
        return buffer;
    }

    /// <summary>
    /// Reads and checks the header of <paramref name="stream"/> (positioned at 0). Returns the
    /// header and its encoded bytes. Errors: <c>backup.file_corrupt</c> naming <paramref name="label"/>.
    /// </summary>
    public static (BackupFileHeader Header, byte[] Encoded) ReadHeader(Stream stream, string label)
    {
        var fixedPart = new byte[8];
        ReadExactly(stream, fixedPart, label, "header");
        if (!fixedPart.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw Corrupt(label, "not a ForgeOne backup file (bad magic)");
        }

        if (fixedPart[4] != Format || fixedPart[5] != 1 || fixedPart[6] != 1)
        {
            throw new ForgeOneException(ErrorCodes.BackupFileCorrupt, $"{label}: backup file format {fixedPart[4]} (compression {fixedPart[5]}, cipher {fixedPart[6]}) is not supported; this code reads format {Format}");
        }

        var id = ReadString(stream, label);
        var name = ReadString(stream, label);
        var tail = new byte[4 + 8 + 8 + 8 + 4];
        ReadExactly(stream, tail, label, "header");
        var header = new BackupFileHeader(
            Encoding.UTF8.GetString(id),
            Encoding.UTF8.GetString(name),
            BinaryPrimitives.ReadInt32BigEndian(tail),
            BinaryPrimitives.ReadUInt64BigEndian(tail.AsSpan(4)),
            BinaryPrimitives.ReadUInt64BigEndian(tail.AsSpan(12)),
            BinaryPrimitives.ReadUInt64BigEndian(tail.AsSpan(20)),
            BinaryPrimitives.ReadInt32BigEndian(tail.AsSpan(28)));
        if (header.ChunkSize is < 4096 or > 64 << 20)
        {
            throw Corrupt(label, $"chunk size {header.ChunkSize} is outside 4 KiB .. 64 MiB");
        }

        return (header, [.. fixedPart, .. LengthPrefixed(id), .. LengthPrefixed(name), .. tail]);
    }

    /// <summary>
    /// Decrypts and decompresses a whole backup file, handing each plaintext chunk to
    /// <paramref name="sink"/> in order; authentication failures, truncation and trailing bytes
    /// are <c>backup.file_corrupt</c> naming <paramref name="label"/> and the chunk. The sink
    /// only ever sees authenticated plaintext. Returns the header, and the file's size and SHA-256.
    /// </summary>
    public static (BackupFileHeader Header, BackupFileResult Result) Read(Stream stream, ReadOnlySpan<byte> dataKey, string label, Action<BackupFileHeader, ReadOnlySpan<byte>> sink)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sink);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (header, encoded) = ReadHeader(stream, label);
        hash.AppendData(encoded);
        var headerHash = SHA256.HashData(encoded);
        using var aes = new AesGcm(dataKey, 16);
        var maxStored = LZ4Codec.MaximumOutputSize(header.ChunkSize);
        var stored = ArrayPool<byte>.Shared.Rent(Math.Max(maxStored, header.ChunkSize));
        var plain = ArrayPool<byte>.Shared.Rent(header.ChunkSize);
        var decrypted = ArrayPool<byte>.Shared.Rent(Math.Max(maxStored, header.ChunkSize));
        var chunkHeader = new byte[ChunkHeader];
        Span<byte> ad = stackalloc byte[32 + 8 + 1 + 4 + 4];
        long size = encoded.Length, plainBytes = 0;
        var index = 0;
        try
        {
            while (true)
            {
                if (stream.ReadAtLeast(chunkHeader, ChunkHeader, throwOnEndOfStream: false) < ChunkHeader)
                {
                    throw Corrupt(label, $"ends before its last chunk (after {index} chunks): truncated");
                }

                hash.AppendData(chunkHeader);
                var plainLength = BinaryPrimitives.ReadInt32BigEndian(chunkHeader);
                var storedLength = BinaryPrimitives.ReadInt32BigEndian(chunkHeader.AsSpan(4));
                var flags = chunkHeader[8];
                if (plainLength < 0 || plainLength > header.ChunkSize || storedLength < 0 || storedLength > maxStored || (flags & ~(FlagCompressed | FlagLast)) != 0
                    || ((flags & FlagCompressed) == 0 && storedLength != plainLength))
                {
                    throw Corrupt(label, $"chunk {index} has an impossible header (plain {plainLength}, stored {storedLength}, flags {flags})");
                }

                ReadExactly(stream, stored.AsSpan(0, storedLength), label, $"chunk {index}");
                hash.AppendData(stored, 0, storedLength);
                size += ChunkHeader + storedLength;
                ChunkAd(ad, headerHash, index, flags, plainLength, storedLength);
                try
                {
                    aes.Decrypt(chunkHeader.AsSpan(9, 12), stored.AsSpan(0, storedLength), chunkHeader.AsSpan(21, 16), decrypted.AsSpan(0, storedLength), ad);
                }
                catch (AuthenticationTagMismatchException)
                {
                    throw Corrupt(label, $"chunk {index} (at byte {size - ChunkHeader - storedLength}) fails authentication: the file was modified, or belongs to another backup or shard");
                }

                ReadOnlySpan<byte> chunk;
                if ((flags & FlagCompressed) != 0)
                {
                    var n = LZ4Codec.Decode(decrypted, 0, storedLength, plain, 0, plainLength);
                    if (n != plainLength)
                    {
                        throw Corrupt(label, $"chunk {index} does not decompress to its {plainLength} bytes");
                    }

                    chunk = plain.AsSpan(0, plainLength);
                }
                else
                {
                    chunk = decrypted.AsSpan(0, plainLength);
                }

                sink(header, chunk);
                plainBytes += plainLength;
                index++;
                if ((flags & FlagLast) != 0)
                {
                    break;
                }
            }

            if (stream.ReadByte() != -1)
            {
                throw Corrupt(label, $"has bytes after its last chunk ({index} chunks)");
            }

            return (header, new BackupFileResult(size, hash.GetHashAndReset(), plainBytes, index));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stored);
            ArrayPool<byte>.Shared.Return(plain);
            ArrayPool<byte>.Shared.Return(decrypted, clearArray: true);
        }
    }

    /// <summary>The SHA-256 and size of a stored file, without the key (a copy's check).</summary>
    public static (long Size, byte[] Sha256) Digest(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long size = 0;
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                size += n;
            }

            return (size, hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static void ChunkAd(Span<byte> ad, ReadOnlySpan<byte> headerHash, long index, byte flags, int plainLength, int storedLength)
    {
        headerHash.CopyTo(ad);
        BinaryPrimitives.WriteInt64BigEndian(ad[32..], index);
        ad[40] = flags;
        BinaryPrimitives.WriteInt32BigEndian(ad[41..], plainLength);
        BinaryPrimitives.WriteInt32BigEndian(ad[45..], storedLength);
    }

    private static byte[] ReadString(Stream stream, string label)
    {
        var length = new byte[2];
        ReadExactly(stream, length, label, "header");
        var bytes = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        ReadExactly(stream, bytes, label, "header");
        return bytes;
    }

    private static byte[] LengthPrefixed(byte[] bytes)
    {
        var output = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(output, (ushort)bytes.Length);
        bytes.CopyTo(output, 2);
        return output;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string label, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
        {
            throw Corrupt(label, $"is truncated inside its {what}");
        }
    }

    private static ForgeOneException Corrupt(string label, string why) => new(ErrorCodes.BackupFileCorrupt, $"{label} {why}");
}

/// <summary>
/// Writes one backup file to several copies at once (one stream per region): chunks the
/// plaintext, compresses, encrypts and hashes it once, then writes the same bytes to each copy.
/// </summary>
public sealed class BackupFileWriter : IDisposable
{
    private readonly IReadOnlyList<Stream> _outputs;
    private readonly AesGcm _aes;
    private readonly byte[] _headerHash;
    private readonly int _chunkSize;
    private readonly byte[] _plain;
    private readonly byte[] _compressed;
    private readonly byte[] _frame;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _fill;
    private long _index;
    private long _size;
    private long _plainBytes;
    private bool _completed;

    // Shard pages are mostly AES-GCM ciphertext, which does not compress; page headers and free
    // space inside pages do. After a few chunks that did not shrink, only every 16th is tried.
    private int _incompressible;

    /// <summary>Writes <paramref name="header"/> to every output; chunks follow as <see cref="Write"/> fills them.</summary>
    public BackupFileWriter(BackupFileHeader header, ReadOnlySpan<byte> dataKey, IReadOnlyList<Stream> outputs)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0)
        {
            throw new ArgumentException("a backup file needs at least one output", nameof(outputs));
        }

        _outputs = outputs;
        _chunkSize = header.ChunkSize;
        _aes = new AesGcm(dataKey, 16);
        _plain = ArrayPool<byte>.Shared.Rent(_chunkSize);
        _compressed = ArrayPool<byte>.Shared.Rent(LZ4Codec.MaximumOutputSize(_chunkSize));
        _frame = ArrayPool<byte>.Shared.Rent(BackupFile.ChunkHeader + LZ4Codec.MaximumOutputSize(_chunkSize));
        var encoded = BackupFile.EncodeHeader(header);
        _headerHash = SHA256.HashData(encoded);
        Emit(encoded);
    }

    /// <summary>Adds plaintext.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (!data.IsEmpty)
        {
            var take = Math.Min(_chunkSize - _fill, data.Length);
            data[..take].CopyTo(_plain.AsSpan(_fill));
            _fill += take;
            data = data[take..];
            if (_fill == _chunkSize)
            {
                // Not the last chunk yet: another (possibly empty) one always ends the file.
                Seal(last: false);
            }
        }
    }

    /// <summary>Writes the last chunk and flushes every output to disk.</summary>
    public BackupFileResult Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        Seal(last: true);
        _completed = true;
        foreach (var output in _outputs)
        {
            output.Flush();
            if (output is FileStream file)
            {
                file.Flush(flushToDisk: true);
            }
        }

        return new BackupFileResult(_size, _hash.GetHashAndReset(), _plainBytes, checked((int)_index));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _aes.Dispose();
        _hash.Dispose();
        ArrayPool<byte>.Shared.Return(_plain, clearArray: true);
        ArrayPool<byte>.Shared.Return(_compressed);
        ArrayPool<byte>.Shared.Return(_frame);
    }

    private void Seal(bool last)
    {
        var plainLength = _fill;
        var attempt = plainLength > 0 && (_incompressible < 3 || _index % 16 == 0);
        var compressedLength = attempt ? LZ4Codec.Encode(_plain, 0, plainLength, _compressed, 0, _compressed.Length, LZ4Level.L00_FAST) : -1;
        // Worth it only when it saves at least 1/32: a smaller gain costs more to decode than it saves.
        var compressed = compressedLength > 0 && compressedLength < plainLength - (plainLength >> 5);
        if (attempt)
        {
            _incompressible = compressed ? 0 : _incompressible + 1;
        }

        var source = compressed ? _compressed.AsSpan(0, compressedLength) : _plain.AsSpan(0, plainLength);
        var flags = (byte)((compressed ? BackupFile.FlagCompressed : 0) | (last ? BackupFile.FlagLast : 0));
        var frame = _frame.AsSpan(0, BackupFile.ChunkHeader + source.Length);
        BinaryPrimitives.WriteInt32BigEndian(frame, plainLength);
        BinaryPrimitives.WriteInt32BigEndian(frame[4..], source.Length);
        frame[8] = flags;
        RandomNumberGenerator.Fill(frame.Slice(9, 12));
        Span<byte> ad = stackalloc byte[32 + 8 + 1 + 4 + 4];
        BackupFile.ChunkAd(ad, _headerHash, _index, flags, plainLength, source.Length);
        _aes.Encrypt(frame.Slice(9, 12), source, frame[BackupFile.ChunkHeader..], frame.Slice(21, 16), ad);
        Emit(frame);
        _plainBytes += plainLength;
        _index++;
        _fill = 0;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _hash.AppendData(bytes);
        foreach (var output in _outputs)
        {
            output.Write(bytes);
        }

        _size += bytes.Length;
    }
}
