using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ForgeOne.Security;

/// <summary>
/// Binary layout of a <see cref="PrincipalToken"/>, format 1 (integers big-endian):
/// <code>
///   u8   format (1)
///   u32  key version            which authentication key signed it
///   i64  issued at              Unix milliseconds
///   i64  expires at             Unix milliseconds
///   str  credential id
///   str  principal id
///   u8   0 | 1, then str        tenant (absent = cluster-level principal)
///   u8   n, n x str             roles
///   u8   n, n x str             regions
///   i32  clearance
///   32   HMAC-SHA256(macKey(version), every byte above)
/// str = u16 length + UTF-8 (1..256 bytes, no control characters)
/// </code>
/// The verifier reads only the first five bytes before the MAC has been checked, so an
/// attacker's bytes are never parsed further; after it, the body is still parsed strictly
/// (lengths, counts, trailing bytes) because a valid MAC over a malformed body would mean a bug
/// in the issuer, not a reason to guess.
/// </summary>
public static class PrincipalTokenCodec
{
    /// <summary>The format written.</summary>
    public const byte FormatV1 = 1;

    /// <summary>Length of the trailing MAC.</summary>
    public const int MacLength = 32;

    /// <summary>Longest token accepted.</summary>
    public const int MaxLength = 4096;

    /// <summary>Longest string field, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 256;

    /// <summary>Most roles or regions in one token.</summary>
    public const int MaxListCount = 64;

    /// <summary>Bytes before the variable part: format, key version, issued at, expires at.</summary>
    public const int HeaderLength = 1 + 4 + 8 + 8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The body of <paramref name="claims"/> followed by its MAC under <paramref name="macKey"/>.</summary>
    /// <exception cref="ArgumentException">A field is empty, too long or holds control characters.</exception>
    public static byte[] Encode(TokenClaims claims, ReadOnlySpan<byte> macKey)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var p = claims.Principal;
        using var body = new MemoryStream(256);
        Span<byte> scratch = stackalloc byte[8];
        body.WriteByte(FormatV1);
        BinaryPrimitives.WriteInt32BigEndian(scratch, claims.KeyVersion);
        body.Write(scratch[..4]);
        BinaryPrimitives.WriteInt64BigEndian(scratch, claims.IssuedAt.ToUnixTimeMilliseconds());
        body.Write(scratch);
        BinaryPrimitives.WriteInt64BigEndian(scratch, claims.ExpiresAt.ToUnixTimeMilliseconds());
        body.Write(scratch);
        WriteString(body, claims.CredentialId, "credential id");
        WriteString(body, p.Id, "principal id");
        body.WriteByte(p.Tenant is null ? (byte)0 : (byte)1);
        if (p.Tenant is not null)
        {
            WriteString(body, p.Tenant, "tenant");
        }

        WriteList(body, p.Roles, "role");
        WriteList(body, p.Regions, "region");
        BinaryPrimitives.WriteInt32BigEndian(scratch, p.Clearance);
        body.Write(scratch[..4]);
        if (body.Length + MacLength > MaxLength)
        {
            throw new ArgumentException($"A principal token is at most {MaxLength} bytes.", nameof(claims));
        }

        var token = new byte[body.Length + MacLength];
        body.GetBuffer().AsSpan(0, (int)body.Length).CopyTo(token);
        HMACSHA256.HashData(macKey, token.AsSpan(0, (int)body.Length), token.AsSpan((int)body.Length));
        return token;
    }

    /// <summary>
    /// The key version a token claims, when its length and format byte are plausible; null
    /// otherwise. Nothing else is read before the MAC is checked.
    /// </summary>
    public static int? PeekKeyVersion(ReadOnlySpan<byte> token) =>
        token.Length is >= HeaderLength + MacLength and <= MaxLength && token[0] == FormatV1
            ? BinaryPrimitives.ReadInt32BigEndian(token[1..])
            : null;

    /// <summary>True when the token's MAC is the one <paramref name="macKey"/> gives its body (constant time).</summary>
    public static bool MacMatches(ReadOnlySpan<byte> token, ReadOnlySpan<byte> macKey)
    {
        if (token.Length < HeaderLength + MacLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        var body = token[..^MacLength];
        HMACSHA256.HashData(macKey, body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, token[^MacLength..]);
    }

    /// <summary>Parses an authenticated token's body; false with a reason when it is malformed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> token, out TokenClaims? claims, out string? error)
    {
        claims = null;
        error = null;
        try
        {
            if (PeekKeyVersion(token) is not { } version)
            {
                error = "not a format-1 principal token";
                return false;
            }

            var r = token[..^MacLength][HeaderLength..];
            var issued = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(token[5..]));
            var expires = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(token[13..]));
            var credential = ReadString(ref r);
            var id = ReadString(ref r);
            var tenant = ReadByte(ref r) switch
            {
                0 => null,
                1 => ReadString(ref r),
                _ => throw new FormatException("bad tenant flag"),
            };
            var roles = ReadList(ref r);
            var regions = ReadList(ref r);
            if (r.Length != 4)
            {
                throw new FormatException(r.Length < 4 ? "truncated" : "trailing bytes");
            }

            var clearance = BinaryPrimitives.ReadInt32BigEndian(r);
            claims = new TokenClaims(new Principal(id, roles, tenant, regions, clearance), credential, issued, expires, version);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or DecoderFallbackException)
        {
            error = "malformed principal token: " + e.Message;
            return false;
        }
    }

    private static void WriteString(Stream s, string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value.Any(char.IsControl))
        {
            throw new ArgumentException($"A token's {what} must be non-empty and free of control characters.");
        }

        var bytes = StrictUtf8.GetBytes(value);
        if (bytes.Length > MaxStringBytes)
        {
            throw new ArgumentException($"A token's {what} is at most {MaxStringBytes} UTF-8 bytes.");
        }

        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)bytes.Length);
        s.Write(length);
        s.Write(bytes);
    }

    private static void WriteList(Stream s, IReadOnlySet<string> values, string what)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count > MaxListCount)
        {
            throw new ArgumentException($"A token holds at most {MaxListCount} {what}s.");
        }

        s.WriteByte((byte)values.Count);
        foreach (var v in values.Order(StringComparer.Ordinal))
        {
            WriteString(s, v, what);
        }
    }

    private static byte ReadByte(ref ReadOnlySpan<byte> r)
    {
        if (r.IsEmpty)
        {
            throw new FormatException("truncated");
        }

        var b = r[0];
        r = r[1..];
        return b;
    }

    private static string ReadString(ref ReadOnlySpan<byte> r)
    {
        if (r.Length < 2)
        {
            throw new FormatException("truncated");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(r);
        if (length is 0 or > MaxStringBytes || r.Length < 2 + length)
        {
            throw new FormatException($"bad string length {length}");
        }

        var value = StrictUtf8.GetString(r.Slice(2, length));
        r = r[(2 + length)..];
        return value.Any(char.IsControl) ? throw new FormatException("control character in a string") : value;
    }

    private static HashSet<string> ReadList(ref ReadOnlySpan<byte> r)
    {
        var count = ReadByte(ref r);
        if (count > MaxListCount)
        {
            throw new FormatException($"{count} list entries (at most {MaxListCount})");
        }

        var set = new HashSet<string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            if (!set.Add(ReadString(ref r)))
            {
                throw new FormatException("duplicate list entry");
            }
        }

        return set;
    }
}
