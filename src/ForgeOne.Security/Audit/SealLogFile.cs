using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Somewhere seals are kept besides the sealer's own journal. The journal lives in the data
/// root, so an attacker who can edit shard files can delete or roll it back; a store outside the
/// data root keeps the signed history they cannot reach. The sealer appends every seal to every
/// store; shards read their last sealed head from one when they open.
/// </summary>
public interface ISealStore
{
    /// <summary>Where the store is (for messages).</summary>
    string Name { get; }

    /// <summary>Appends a seal durably (returns after it is on disk).</summary>
    void Append(Seal seal);

    /// <summary>The newest seal, or null when the store is empty.</summary>
    Seal? Latest();

    /// <summary>
    /// The newest seal that covers <paramref name="shardId"/> (has a head for it), or null. Seals
    /// that name it as failed are skipped: they say nothing about its chain.
    /// </summary>
    Seal? LatestCovering(string shardId);

    /// <summary>Every seal, oldest first.</summary>
    IReadOnlyList<Seal> ReadAll();
}

/// <summary>
/// An append-only file of seals (docs/FORMATS.md "Seals file"):
/// <c>"forgeone.seals.v1\n"</c>, then entries <c>u32 length | encoded seal | u32 length</c>
/// (big-endian). The trailing length lets a reader walk back from the end, so finding the last
/// seal costs one entry however long the history; a crash during an append leaves a torn last
/// entry, which readers ignore and the next append cuts off. Entries are never rewritten.
/// Thread-safe; one process appends (the sealer), any number read.
/// </summary>
public sealed class SealLogFile : ISealStore
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("forgeone.seals.v1\n");

    // A seal is a few KB per hundred shards; anything near this is not a seal.
    private const int MaxEntry = 64 * 1024 * 1024;

    private readonly Lock _lock = new();

    /// <summary>A seals file at <paramref name="path"/> (created on the first append).</summary>
    public SealLogFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string Name => Path;

    /// <summary>
    /// A seals file that must lie outside <paramref name="dataRoot"/>: inside it, deleting the
    /// data root's seal journal would delete this copy too (<c>validation.invalid_configuration</c>).
    /// </summary>
    public static SealLogFile OutsideDataRoot(string path, string dataRoot)
    {
        var file = new SealLogFile(path);
        var root = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(dataRoot)) + System.IO.Path.DirectorySeparatorChar;
        if (file.Path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.InvalidConfiguration, $"the seals file '{file.Path}' is inside the data root '{root}'; it must live outside it");
        }

        return file;
    }

    /// <inheritdoc />
    public void Append(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        var encoded = SealCodec.Encode(seal);
        var entry = new byte[encoded.Length + 8];
        BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)encoded.Length);
        encoded.CopyTo(entry, 4);
        BinaryPrimitives.WriteUInt32BigEndian(entry.AsSpan(4 + encoded.Length), (uint)encoded.Length);
        lock (_lock)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            using var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            if (stream.Length == 0)
            {
                stream.Write(Header);
            }
            else
            {
                CheckHeader(stream);
                var end = ValidEnd(stream);
                if (end != stream.Length)
                {
                    // Only ever the torn remains of an append that crashed: never a whole entry.
                    stream.SetLength(end);
                }
            }

            stream.Seek(0, SeekOrigin.End);
            stream.Write(entry);
            stream.Flush(flushToDisk: true);
        }
    }

    /// <inheritdoc />
    public Seal? Latest() => Backwards().FirstOrDefault();

    /// <inheritdoc />
    public Seal? LatestCovering(string shardId) => Backwards().FirstOrDefault(s => s.HeadOf(shardId) is not null);

    /// <inheritdoc />
    public IReadOnlyList<Seal> ReadAll()
    {
        lock (_lock)
        {
            if (!File.Exists(Path))
            {
                return [];
            }

            using var stream = OpenRead();
            CheckHeader(stream);
            var seals = new List<Seal>();
            while (TryReadForward(stream, out var encoded))
            {
                seals.Add(Decode(encoded, stream.Position));
            }

            return seals;
        }
    }

    // Newest first, lazily, reading each entry from its trailing length; a torn tail (an append
    // in progress or cut short by a crash) is skipped. Readers take no lock: the file only grows,
    // and an entry is visible once both its lengths are written.
    private IEnumerable<Seal> Backwards()
    {
        if (!File.Exists(Path))
        {
            yield break;
        }

        using var stream = OpenRead();
        if (stream.Length == 0)
        {
            yield break;
        }

        CheckHeader(stream);
        var end = ValidEndFast(stream);
        var length = new byte[4];
        while (end > Header.Length)
        {
            stream.Seek(end - 4, SeekOrigin.Begin);
            stream.ReadExactly(length);
            var n = BinaryPrimitives.ReadUInt32BigEndian(length);
            var start = end - 8 - n;
            if (n > MaxEntry || start < Header.Length)
            {
                throw Corrupt(stream, end, "an entry's trailing length runs past the start of the file");
            }

            var encoded = new byte[n];
            stream.Seek(start + 4, SeekOrigin.Begin);
            stream.ReadExactly(encoded);
            end = start;
            yield return Decode(encoded, start);
        }
    }

    // The end of the last complete entry: the file length when the last entry's two lengths
    // agree, else (a torn append) the result of a forward scan.
    private static long ValidEndFast(FileStream stream)
    {
        var length = stream.Length;
        if (length == Header.Length)
        {
            return length;
        }

        if (length >= Header.Length + 8)
        {
            Span<byte> buffer = stackalloc byte[4];
            stream.Seek(length - 4, SeekOrigin.Begin);
            stream.ReadExactly(buffer);
            var n = BinaryPrimitives.ReadUInt32BigEndian(buffer);
            var start = length - 8 - n;
            if (n <= MaxEntry && start >= Header.Length)
            {
                stream.Seek(start, SeekOrigin.Begin);
                stream.ReadExactly(buffer);
                if (BinaryPrimitives.ReadUInt32BigEndian(buffer) == n)
                {
                    return length;
                }
            }
        }

        return ValidEnd(stream);
    }

    private static long ValidEnd(FileStream stream)
    {
        stream.Seek(Header.Length, SeekOrigin.Begin);
        var end = stream.Position;
        while (TryReadForward(stream, out _))
        {
            end = stream.Position;
        }

        return end;
    }

    private static bool TryReadForward(FileStream stream, out byte[] encoded)
    {
        encoded = [];
        var start = stream.Position;
        Span<byte> buffer = stackalloc byte[4];
        if (stream.Length - start < 8)
        {
            return false;
        }

        stream.ReadExactly(buffer);
        var n = BinaryPrimitives.ReadUInt32BigEndian(buffer);
        if (n > MaxEntry || stream.Length - start < 8 + n)
        {
            stream.Seek(start, SeekOrigin.Begin);
            return false;
        }

        encoded = new byte[n];
        stream.ReadExactly(encoded);
        stream.ReadExactly(buffer);
        if (BinaryPrimitives.ReadUInt32BigEndian(buffer) != n)
        {
            stream.Seek(start, SeekOrigin.Begin);
            return false;
        }

        return true;
    }

    private FileStream OpenRead() => new(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    private void CheckHeader(FileStream stream)
    {
        Span<byte> header = stackalloc byte[Header.Length];
        stream.Seek(0, SeekOrigin.Begin);
        if (stream.Length < Header.Length || stream.Read(header) != Header.Length || !header.SequenceEqual(Header))
        {
            throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"'{Path}' is not a ForgeOne seals file (bad header)");
        }
    }

    private Seal Decode(byte[] encoded, long position)
    {
        try
        {
            return SealCodec.Decode(encoded);
        }
        catch (ForgeOneException e)
        {
            throw new ForgeOneException(e.Code, $"seals file '{Path}'{(position >= 0 ? $" before byte {position}" : "")}: {e.Error.Message}");
        }
    }

    private static ForgeOneException Corrupt(FileStream stream, long at, string reason) =>
        new(ErrorCodes.AuditUnknownFormat, $"seals file '{stream.Name}' is damaged near byte {at}: {reason}");
}
