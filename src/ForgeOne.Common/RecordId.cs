using System.Globalization;

namespace ForgeOne.Common;

/// <summary>
/// A record id assigned by the shard that owns the record. Unique cluster-wide, ordered by
/// time within a shard, and carrying the shard number so get-by-id routes straight to the owner.
/// </summary>
/// <remarks>
/// Layout of the 64-bit value (big-endian order = time order within one shard):
/// <code>
///  63            22 21        12 11         0
/// +----------------+------------+------------+
/// | ms since epoch | shard (10) | seq (12)   |
/// |     (42 bits)  |            |            |
/// +----------------+------------+------------+
/// </code>
/// 42 bits of milliseconds from 2024-01-01 last until the year 2163; 12 bits of sequence give
/// 4,096 ids per millisecond per shard before the generator borrows from the next millisecond.
/// The string form is 16 lowercase hex digits, so it sorts like the number.
/// </remarks>
public readonly record struct RecordId(ulong Value) : IComparable<RecordId>
{
    public const int MaxShards = 1 << ShardBits;
    public const int ShardBits = 10;
    public const int SequenceBits = 12;
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static RecordId Create(long millisSinceEpoch, int shard, int sequence)
    {
        if ((ulong)millisSinceEpoch >= 1UL << 42)
        {
            throw new ArgumentOutOfRangeException(nameof(millisSinceEpoch));
        }

        if ((uint)shard >= MaxShards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard));
        }

        if ((uint)sequence >= 1U << SequenceBits)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence));
        }

        return new RecordId(((ulong)millisSinceEpoch << (ShardBits + SequenceBits)) | ((ulong)shard << SequenceBits) | (uint)sequence);
    }

    public int Shard => (int)((Value >> SequenceBits) & (MaxShards - 1));

    public int Sequence => (int)(Value & ((1UL << SequenceBits) - 1));

    public long MillisSinceEpoch => (long)(Value >> (ShardBits + SequenceBits));

    /// <summary>The time the owning shard assigned the id (not necessarily the record's own timestamp).</summary>
    public DateTimeOffset AssignedAt => Epoch.AddMilliseconds(MillisSinceEpoch);

    public int CompareTo(RecordId other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses the 16-hex-digit form. Anything else is rejected rather than guessed at.</summary>
    public static bool TryParse(string? text, out RecordId id)
    {
        id = default;
        if (text is null || text.Length != 16)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        id = new RecordId(ulong.Parse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        return true;
    }

    public static RecordId Parse(string text) =>
        TryParse(text, out var id)
            ? id
            : throw new ForgeOneException(ErrorCodes.InvalidId, "A record id is 16 lowercase hex digits.");

    public static bool operator <(RecordId left, RecordId right) => left.Value < right.Value;

    public static bool operator >(RecordId left, RecordId right) => left.Value > right.Value;

    public static bool operator <=(RecordId left, RecordId right) => left.Value <= right.Value;

    public static bool operator >=(RecordId left, RecordId right) => left.Value >= right.Value;
}

/// <summary>
/// Hands out <see cref="RecordId"/>s for one shard. Not thread-safe: the shard actor is its only
/// caller. Monotonic even when the clock goes backwards (a shard that moved to a node whose clock
/// is behind): the persisted high-water mark is the floor.
/// </summary>
public sealed class RecordIdGenerator
{
    private const ulong SequenceMask = (1UL << RecordId.SequenceBits) - 1;
    private readonly int _shard;
    private readonly TimeProvider _time;

    // (ms << 12 | seq) of the last id issued; the shard persists it as its high-water mark.
    private ulong _lastStamp;

    public RecordIdGenerator(int shard, TimeProvider time, RecordId highWaterMark = default)
    {
        if ((uint)shard >= RecordId.MaxShards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), $"Shard numbers go up to {RecordId.MaxShards - 1}.");
        }

        _shard = shard;
        _time = time;
        _lastStamp = StampOf(highWaterMark);
    }

    /// <summary>The last id issued (or the restored high-water mark). Persist it with each commit.</summary>
    public RecordId HighWaterMark => FromStamp(_lastStamp);

    public RecordId Next()
    {
        var nowMs = (ulong)Math.Max(0, (_time.GetUtcNow() - RecordId.Epoch).Ticks / TimeSpan.TicksPerMillisecond);
        var stamp = Math.Max(nowMs << RecordId.SequenceBits, _lastStamp + 1);
        _lastStamp = stamp;
        return FromStamp(stamp);
    }

    private RecordId FromStamp(ulong stamp) =>
        RecordId.Create((long)(stamp >> RecordId.SequenceBits), _shard, (int)(stamp & SequenceMask));

    private static ulong StampOf(RecordId id) =>
        id.Value == 0 ? 0 : ((ulong)id.MillisSinceEpoch << RecordId.SequenceBits) | (uint)id.Sequence;
}
