using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Binary form of an <see cref="AuditRecord"/> (docs/FORMATS.md "Audit record"):
/// <c>hash input | 32 hash</c>, where the hash input is
/// <c>u8 format=1 | i64 seq | i64 time (UTC ticks) | str principal | str action | str resource | u8 outcome | 32 detail hash | 32 prev hash</c>
/// (integers big-endian, str = u16 length + UTF-8).
/// </summary>
public static class AuditRecordCodec
{
    /// <summary>Format byte.</summary>
    public const byte FormatV1 = 1;

    /// <summary>SHA-256 length.</summary>
    public const int HashLength = 32;

    /// <summary>Encodes a record (its stored hash is written as is, not recomputed).</summary>
    public static byte[] Encode(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var inputLength = HashInputLength(record.Principal, record.Action, record.Resource);
        var output = new byte[inputLength + HashLength];
        WriteHashInput(output, record.Seq, record.Time, record.Principal, record.Action, record.Resource, record.Outcome, record.DetailHash, record.PrevHash);
        CheckHash(record.Hash, "hash");
        record.Hash.CopyTo(output, inputLength);
        return output;
    }

    /// <summary>Decodes a record; structure errors are <c>audit.unknown_format</c>. The hash is not verified here (see <see cref="AuditVerifier"/>).</summary>
    public static AuditRecord Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, "audit record");
        var format = r.U8();
        if (format != FormatV1)
        {
            throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"audit record format {format} is not supported (expected {FormatV1})");
        }

        var seq = r.I64();
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("time out of range");
        }

        var principal = r.String16();
        var action = r.String16();
        var resource = r.String16();
        var outcome = (AuditOutcome)r.U8();
        if (!Enum.IsDefined(outcome))
        {
            throw r.Fail($"unknown outcome {(int)outcome}");
        }

        var detail = r.Bytes(HashLength).ToArray();
        var prev = r.Bytes(HashLength).ToArray();
        var hash = r.Bytes(HashLength).ToArray();
        r.End();
        return new AuditRecord(seq, new DateTimeOffset(ticks, TimeSpan.Zero), principal, action, resource, outcome, detail, prev, hash);
    }

    /// <summary>Recomputes a record's hash from its fields (what the verifier compares with <see cref="AuditRecord.Hash"/>).</summary>
    public static byte[] ComputeHash(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return ComputeHash(record.Seq, record.Time, record.Principal, record.Action, record.Resource, record.Outcome, record.DetailHash, record.PrevHash);
    }

    internal static byte[] ComputeHash(long seq, DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, byte[] detailHash, byte[] prevHash)
    {
        var length = HashInputLength(principal, action, resource);
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        WriteHashInput(buffer, seq, time, principal, action, resource, outcome, detailHash, prevHash);
        return SHA256.HashData(buffer);
    }

    private static int HashInputLength(string principal, string action, string resource) =>
        1 + 8 + 8 + 2 + Utf8.Length16(principal, "principal") + 2 + Utf8.Length16(action, "action") + 2 + Utf8.Length16(resource, "resource") + 1 + HashLength + HashLength;

    private static void WriteHashInput(Span<byte> dest, long seq, DateTimeOffset time, string principal, string action, string resource, AuditOutcome outcome, byte[] detailHash, byte[] prevHash)
    {
        CheckHash(detailHash, "detail hash");
        CheckHash(prevHash, "prev hash");
        var w = new SpanWriter(dest);
        w.U8(FormatV1);
        w.I64(seq);
        w.I64(time.UtcTicks);
        w.String16(principal);
        w.String16(action);
        w.String16(resource);
        w.U8((byte)outcome);
        w.Bytes(detailHash);
        w.Bytes(prevHash);
    }

    private static void CheckHash(byte[] hash, string name)
    {
        if (hash is null || hash.Length != HashLength)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"audit {name} must be {HashLength} bytes");
        }
    }
}
