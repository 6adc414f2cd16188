using System.Buffers.Binary;
using System.IO.Hashing;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>
/// The on-disk wrapper around every stored value.
/// <code>
///   byte 0      format version (2; 1 is still read)
///   bytes 1..4  checksum, uint32 little-endian
///   bytes 5..   payload (the caller's bytes, stored as given)
/// </code>
/// Format 2: the checksum is the low 32 bits of XXH3-64 over the payload, seeded with XXH3-64
/// of the record key. Format 1: XxHash32 over the payload, seeded with XxHash32 of the key;
/// XXH3 replaced it because it runs several times faster on large values (a 1 MiB blob chunk
/// is checksummed on every write and read). Seeding with the key binds the value to its key:
/// a value copied under another key, or a flipped bit in either, fails verification. (LMDB
/// does not checksum pages; this is our only guard against silent media corruption of record
/// bytes.)
/// </summary>
public static class RecordEnvelope
{
    /// <summary>The only format written today. A reader meeting another value refuses the record.</summary>
    public const byte CurrentFormat = 2;

    private const byte XxHash32Format = 1;

    /// <summary>Bytes added in front of every payload.</summary>
    public const int HeaderSize = 5;

    /// <summary>Bytes needed to wrap a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int WrappedLength(int payloadLength) => HeaderSize + payloadLength;

    /// <summary>Writes the envelope for (<paramref name="key"/>, <paramref name="payload"/>) into <paramref name="destination"/>.</summary>
    public static void Wrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        payload.CopyTo(destination[HeaderSize..]);
        Seal(key, destination[..WrappedLength(payload.Length)]);
    }

    /// <summary>
    /// Completes an envelope whose payload the caller already wrote at
    /// <c>envelope[HeaderSize..]</c> (a large value built in place, off the writer's thread, for
    /// <see cref="IWriteTransaction.PutWrapped"/>): writes the header for <paramref name="key"/>.
    /// </summary>
    public static void Seal(ReadOnlySpan<byte> key, Span<byte> envelope)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(envelope.Length, HeaderSize, nameof(envelope));
        envelope[0] = CurrentFormat;
        BinaryPrimitives.WriteUInt32LittleEndian(envelope[1..], Checksum(CurrentFormat, key, envelope[HeaderSize..]));
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="envelope"/> has a current-format header (its checksum is not recomputed).</summary>
    public static void CheckSealed(ReadOnlySpan<byte> envelope)
    {
        if (envelope.Length < HeaderSize || envelope[0] != CurrentFormat)
        {
            throw new ArgumentException($"not a sealed format-{CurrentFormat} envelope", nameof(envelope));
        }
    }

    /// <summary>A newly allocated envelope; for cold paths and tests.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[WrappedLength(payload.Length)];
        Wrap(key, payload, buffer);
        return buffer;
    }

    /// <summary>Checks an envelope without throwing. Returns null when it is sound, else what is wrong.</summary>
    public static (string Code, string Reason)? Verify(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored)
    {
        if (stored.Length < HeaderSize)
        {
            return (ErrorCodes.StorageCorruptRecord, $"record is {stored.Length} bytes, shorter than its {HeaderSize}-byte header");
        }

        if (stored[0] is not (CurrentFormat or XxHash32Format))
        {
            return (ErrorCodes.StorageUnknownFormat, $"record format {stored[0]} is unknown (this code reads formats {XxHash32Format} and {CurrentFormat})");
        }

        var expected = BinaryPrimitives.ReadUInt32LittleEndian(stored[1..]);
        var actual = Checksum(stored[0], key, stored[HeaderSize..]);
        return expected == actual
            ? null
            : (ErrorCodes.StorageCorruptRecord, $"checksum mismatch (stored {expected:x8}, computed {actual:x8})");
    }

    /// <summary>
    /// Verifies and returns the payload as a slice of <paramref name="stored"/>. Throws
    /// <see cref="ForgeOneException"/> with <see cref="ErrorCodes.StorageCorruptRecord"/> or
    /// <see cref="ErrorCodes.StorageUnknownFormat"/>, naming the table and key.
    /// </summary>
    public static ReadOnlySpan<byte> Unwrap(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored)
    {
        if (Verify(key, stored) is { } problem)
        {
            throw new ForgeOneException(problem.Code, $"table '{table}', key {KeyCodec.ToHex(key)}: {problem.Reason}");
        }

        return stored[HeaderSize..];
    }

    /// <summary>As <see cref="Unwrap(string, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>, the error naming the store too and carrying <c>store</c>, <c>table</c> and <c>key</c> details.</summary>
    public static ReadOnlySpan<byte> Unwrap(string store, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored)
    {
        if (Verify(key, stored) is { } problem)
        {
            Throw(store, table, key.ToArray(), problem);
        }

        return stored[HeaderSize..];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Throw(string store, string table, byte[] key, (string Code, string Reason) problem)
    {
        var hex = KeyCodec.ToHex(key);
        throw new ForgeOneException(new ForgeOneError(problem.Code, $"store {store}, table '{table}', key {hex}: {problem.Reason}").At(store, table, hex));
    }

    private static uint Checksum(byte format, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload) =>
        format == XxHash32Format
            ? XxHash32.HashToUInt32(payload, unchecked((int)XxHash32.HashToUInt32(key)))
            : unchecked((uint)XxHash3.HashToUInt64(payload, unchecked((long)XxHash3.HashToUInt64(key))));
}
