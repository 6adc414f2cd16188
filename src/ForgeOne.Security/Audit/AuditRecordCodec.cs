using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Binary form of an <see cref="AuditRecord"/> (docs/FORMATS.md "Audit record"): <c>hash input | 32 hash</c>.
/// <code>
///   format 1: u8 1 | i64 seq | i64 time | str principal | str action | str resource | u8 outcome | 32 detail hash | 32 prev hash
///   format 2: u8 2 | i64 seq | i64 time | str principal | str action | str scope
///             | u8 has subject | [16 token | u16 length | ciphertext] | u8 outcome | 32 detail hash | 32 prev hash
/// </code>
/// (integers big-endian, time in UTC ticks, str = u16 length + UTF-8). The hash covers the bytes
/// exactly as stored, ciphertext included, so verifying needs no key. Format 1 is still read.
/// </summary>
public static class AuditRecordCodec
{
    /// <summary>Format byte of records with the whole resource in plaintext (still read, no longer written by shards).</summary>
    public const byte FormatV1 = 1;

    /// <summary>Format byte of records whose data-naming resource part is sealed (<see cref="SealedAuditSubject"/>).</summary>
    public const byte FormatV2 = 2;

    /// <summary>SHA-256 length.</summary>
    public const int HashLength = 32;

    /// <summary>Length of a subject's blind-index token.</summary>
    public const int TokenLength = 16;

    /// <summary>Encodes a record (its stored hash is written as is, not recomputed).</summary>
    public static byte[] Encode(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var inputLength = HashInputLength(record);
        var output = new byte[inputLength + HashLength];
        WriteHashInput(output, record);
        CheckHash(record.Hash, "hash");
        record.Hash.CopyTo(output, inputLength);
        return output;
    }

    /// <summary>Decodes a record; structure errors are <c>audit.unknown_format</c>. The hash is not verified here (see <see cref="AuditVerifier"/>).</summary>
    public static AuditRecord Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, "audit record");
        var format = r.U8();
        if (format is not (FormatV1 or FormatV2))
        {
            throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"audit record format {format} is not supported (this code reads {FormatV1} and {FormatV2})");
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
        SealedAuditSubject? subject = null;
        if (format == FormatV2)
        {
            switch (r.U8())
            {
                case 0:
                    break;
                case 1:
                    var token = r.Bytes(TokenLength).ToArray();
                    subject = new SealedAuditSubject(token, r.Bytes16().ToArray());
                    break;
                case var flag:
                    throw r.Fail($"subject flag {flag} is neither 0 nor 1");
            }
        }

        var outcome = (AuditOutcome)r.U8();
        if (!Enum.IsDefined(outcome))
        {
            throw r.Fail($"unknown outcome {(int)outcome}");
        }

        var detail = r.Bytes(HashLength).ToArray();
        var prev = r.Bytes(HashLength).ToArray();
        var hash = r.Bytes(HashLength).ToArray();
        r.End();
        return new AuditRecord(seq, new DateTimeOffset(ticks, TimeSpan.Zero), principal, action, resource, outcome, detail, prev, hash)
        {
            Format = format,
            Subject = subject,
        };
    }

    /// <summary>Recomputes a record's hash from its fields (what the verifier compares with <see cref="AuditRecord.Hash"/>).</summary>
    public static byte[] ComputeHash(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var length = HashInputLength(record);
        var buffer = length <= 1024 ? stackalloc byte[length] : new byte[length];
        WriteHashInput(buffer, record);
        return SHA256.HashData(buffer);
    }

    private static int HashInputLength(AuditRecord r)
    {
        var length = 1 + 8 + 8 + 2 + Utf8.Length16(r.Principal, "principal") + 2 + Utf8.Length16(r.Action, "action") + 2 + Utf8.Length16(r.Resource, "resource") + 1 + HashLength + HashLength;
        return r.Format switch
        {
            FormatV1 when r.Subject is null => length,
            FormatV1 => throw new ForgeOneException(ErrorCodes.InvalidArgument, "a format-1 audit record has no sealed subject"),
            FormatV2 => length + 1 + (r.Subject is { } s ? TokenLength + 2 + SubjectLength(s) : 0),
            _ => throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"audit record format {r.Format} is not supported"),
        };
    }

    private static int SubjectLength(SealedAuditSubject subject)
    {
        if (subject.Token is not { Length: TokenLength })
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"an audit subject token is {TokenLength} bytes");
        }

        return subject.Ciphertext is { Length: <= ushort.MaxValue } c
            ? c.Length
            : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"an audit subject ciphertext is at most {ushort.MaxValue} bytes");
    }

    private static void WriteHashInput(Span<byte> dest, AuditRecord r)
    {
        CheckHash(r.DetailHash, "detail hash");
        CheckHash(r.PrevHash, "prev hash");
        var w = new SpanWriter(dest);
        w.U8(r.Format);
        w.I64(r.Seq);
        w.I64(r.Time.UtcTicks);
        w.String16(r.Principal);
        w.String16(r.Action);
        w.String16(r.Resource);
        if (r.Format == FormatV2)
        {
            if (r.Subject is { } subject)
            {
                w.U8(1);
                w.Bytes(subject.Token);
                w.Bytes16(subject.Ciphertext);
            }
            else
            {
                w.U8(0);
            }
        }

        w.U8((byte)r.Outcome);
        w.Bytes(r.DetailHash);
        w.Bytes(r.PrevHash);
    }

    private static void CheckHash(byte[] hash, string name)
    {
        if (hash is null || hash.Length != HashLength)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"audit {name} must be {HashLength} bytes");
        }
    }
}
