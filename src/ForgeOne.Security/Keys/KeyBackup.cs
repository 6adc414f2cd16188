using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>What a key file in the keys directory is, from its name (for reports; every file is backed up whatever its kind).</summary>
public enum KeyFileKind : byte
{
    /// <summary>A version of the key-encryption key (<c>kek-v{n}.key</c>).</summary>
    Kek = 1,

    /// <summary>The ECDSA audit signing key (<c>audit-signing.key</c>).</summary>
    AuditSigning = 2,

    /// <summary>The cluster authentication key (principal tokens).</summary>
    ClusterAuthentication = 3,

    /// <summary>The cluster CA and node certificates/keys (remoting TLS).</summary>
    ClusterCa = 4,

    /// <summary>A credential file (the bootstrap admin API key).</summary>
    Credential = 5,

    /// <summary>Anything else found in the keys directory.</summary>
    Other = 9,
}

/// <summary>One file of a key backup: its path relative to the keys directory, kind, mode and bytes.</summary>
public sealed record KeyBackupFile(string Path, KeyFileKind Kind, int Mode, byte[] Content)
{
    /// <summary>SHA-256 of the content (hex), for reports.</summary>
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Content));

    /// <inheritdoc />
    public override string ToString() => $"{Path} ({Kind}, {Content.Length} bytes)";
}

/// <summary>The plaintext of a key backup: every file of the keys directory. Never logged: it is the keyring.</summary>
public sealed record KeyBackupContents(IReadOnlyList<KeyBackupFile> Files)
{
    /// <summary>File counts by kind, e.g. <c>Kek=2 AuditSigning=1</c>.</summary>
    public string Summary => string.Join(' ', Files.GroupBy(f => f.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"));

    /// <inheritdoc />
    public override string ToString() => $"key backup contents: {Files.Count} files ({Summary})";
}

/// <summary>The plaintext header of a sealed key backup (no secret needed to read it).</summary>
public sealed record KeyBackupHeader(string Id, DateTimeOffset CreatedAt, uint OpsLimit, uint MemLimitKiB);

/// <summary>Argon2id cost of sealing a key backup. The defaults are libsodium's "moderate" level.</summary>
/// <param name="OpsLimit">Passes over memory (libsodium opslimit), at least 1.</param>
/// <param name="MemLimitKiB">Memory in KiB, at least 8 MiB.</param>
public sealed record KeyBackupCost(uint OpsLimit = 3, uint MemLimitKiB = 256 * 1024)
{
    /// <summary>libsodium's moderate level (about a second and 256 MiB): the default for real key backups.</summary>
    public static KeyBackupCost Default { get; } = new();
}

/// <summary>How a key backup compares with a keys directory (<see cref="KeyBackup.Compare"/>).</summary>
/// <param name="Matching">Files present with the same bytes.</param>
/// <param name="MissingFromDirectory">Files the backup holds that the directory lacks.</param>
/// <param name="Different">Files present with other bytes.</param>
/// <param name="NotInBackup">Files of the directory the backup does not hold (newer keys: take a new key backup).</param>
public sealed record KeyBackupComparison(IReadOnlyList<string> Matching, IReadOnlyList<string> MissingFromDirectory, IReadOnlyList<string> Different, IReadOnlyList<string> NotInBackup);

/// <summary>
/// Key backups: the whole keys directory (KEK versions, the audit signing key, the cluster's
/// authentication and CA keys, whatever else lives there) sealed under a recovery secret the
/// operator holds. The secret goes through Argon2id (libsodium, memory-hard) to an AES-256-GCM
/// key; without it the file reveals only its id, time and KDF cost. Format (big-endian):
/// <code>
///   "FOKB" | u8 format=1 | u8 kdf=1 (Argon2id v1.3) | u32 opslimit | u32 memlimit KiB | 16 salt
///   | 12 nonce | u16 id length | id | i64 created (UTC ticks) | u32 ciphertext length
///   | ciphertext | 16 tag                               (associated data: every byte before the ciphertext)
///   plaintext: u8 version=1 | u32 files | per file: u16 path length | path | u8 kind | u32 mode | u32 length | bytes
/// </code>
/// Data backups never contain this file: key backups go to their own folder of each region.
/// </summary>
public static class KeyBackup
{
    /// <summary>Shortest recovery secret accepted.</summary>
    public const int MinSecretLength = 12;

    /// <summary>File extension of a sealed key backup.</summary>
    public const string Extension = ".fokeys";

    private const byte Format = 1;
    private const byte KdfArgon2id = 1;
    private const int SaltLength = 16;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private static readonly byte[] Magic = "FOKB"u8.ToArray();

    /// <summary>Reads every file of <paramref name="keysDirectory"/> (recursively; temporary files excepted).</summary>
    public static KeyBackupContents Collect(string keysDirectory)
    {
        var root = Path.GetFullPath(keysDirectory);
        if (!Directory.Exists(root))
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"keys directory '{root}' does not exist");
        }

        var files = new List<KeyBackupFile>();
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (path.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue; // a key file being created (KeyFiles.TryCreate): not a key yet
            }

            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            var mode = OperatingSystem.IsWindows() ? 0x180 : (int)File.GetUnixFileMode(path);
            files.Add(new KeyBackupFile(relative, KindOf(relative), mode, File.ReadAllBytes(path)));
        }

        if (!files.Any(f => f.Kind == KeyFileKind.Kek))
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"keys directory '{root}' holds no KEK (kek-v*.key): nothing worth backing up");
        }

        return new KeyBackupContents(files);
    }

    /// <summary>The kind of a key file from its relative path.</summary>
    public static KeyFileKind KindOf(string relativePath)
    {
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..].ToLowerInvariant();
        return name switch
        {
            _ when name.StartsWith("kek-v", StringComparison.Ordinal) && name.EndsWith(".key", StringComparison.Ordinal) => KeyFileKind.Kek,
            AuditSigner.KeyFileName => KeyFileKind.AuditSigning,
            _ when name.Contains("bootstrap", StringComparison.Ordinal) || name.Contains("apikey", StringComparison.Ordinal) => KeyFileKind.Credential,
            _ when name.Contains("auth", StringComparison.Ordinal) || name.Contains("token", StringComparison.Ordinal) => KeyFileKind.ClusterAuthentication,
            _ when name.Contains("ca", StringComparison.Ordinal) || name.Contains("cert", StringComparison.Ordinal) || name.Contains("tls", StringComparison.Ordinal)
                || name.EndsWith(".pem", StringComparison.Ordinal) || name.EndsWith(".crt", StringComparison.Ordinal) || name.EndsWith(".pfx", StringComparison.Ordinal) => KeyFileKind.ClusterCa,
            _ => KeyFileKind.Other,
        };
    }

    /// <summary>Seals <paramref name="contents"/> under <paramref name="secret"/>.</summary>
    public static byte[] Seal(KeyBackupContents contents, string id, DateTimeOffset createdAt, ReadOnlySpan<char> secret, KeyBackupCost? cost = null)
    {
        ArgumentNullException.ThrowIfNull(contents);
        ValidateId(id);
        CheckSecret(secret);
        cost ??= KeyBackupCost.Default;
        if (cost.OpsLimit < 1 || cost.MemLimitKiB < 8 * 1024)
        {
            throw Errors.Invalid("a key backup needs Argon2id opslimit >= 1 and at least 8 MiB of memory");
        }

        var plaintext = EncodeContents(contents);
        try
        {
            var idBytes = Encoding.UTF8.GetBytes(id);
            var header = new byte[4 + 1 + 1 + 4 + 4 + SaltLength + NonceLength + 2 + idBytes.Length + 8 + 4];
            var w = new SpanWriter(header);
            w.Bytes(Magic);
            w.U8(Format);
            w.U8(KdfArgon2id);
            w.U32(cost.OpsLimit);
            w.U32(cost.MemLimitKiB);
            var salt = RandomNumberGenerator.GetBytes(SaltLength);
            var nonce = RandomNumberGenerator.GetBytes(NonceLength);
            w.Bytes(salt);
            w.Bytes(nonce);
            w.Bytes16(idBytes);
            w.I64(createdAt.UtcTicks);
            w.U32((uint)plaintext.Length);

            var output = new byte[header.Length + plaintext.Length + TagLength];
            header.CopyTo(output, 0);
            var key = DeriveKey(secret, salt, cost.OpsLimit, cost.MemLimitKiB);
            try
            {
                using var aes = new AesGcm(key, TagLength);
                aes.Encrypt(nonce, plaintext, output.AsSpan(header.Length, plaintext.Length), output.AsSpan(header.Length + plaintext.Length), header);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }

            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The header of a sealed key backup. Errors: <c>crypto.unknown_format</c>.</summary>
    public static KeyBackupHeader ReadHeader(ReadOnlySpan<byte> sealedBackup) => Parse(sealedBackup).Header;

    /// <summary>
    /// Opens a sealed key backup. Errors: <c>crypto.unknown_format</c> (not a key backup, truncated),
    /// <c>backup.recovery_secret_invalid</c> (wrong secret, or modified bytes: GCM cannot tell them apart).
    /// </summary>
    public static KeyBackupContents Open(ReadOnlySpan<byte> sealedBackup, ReadOnlySpan<char> secret)
    {
        var parsed = Parse(sealedBackup);
        if (secret.IsEmpty)
        {
            throw new ForgeOneException(ErrorCodes.BackupRecoverySecretInvalid, $"key backup {parsed.Header.Id} needs its recovery secret");
        }

        var ciphertext = sealedBackup.Slice(parsed.HeaderLength, parsed.CiphertextLength);
        var tag = sealedBackup.Slice(parsed.HeaderLength + parsed.CiphertextLength, TagLength);
        var plaintext = new byte[parsed.CiphertextLength];
        var key = DeriveKey(secret, parsed.Salt, parsed.Header.OpsLimit, parsed.Header.MemLimitKiB);
        try
        {
            using var aes = new AesGcm(key, TagLength);
            aes.Decrypt(parsed.Nonce, ciphertext, tag, plaintext, sealedBackup[..parsed.HeaderLength]);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new ForgeOneException(ErrorCodes.BackupRecoverySecretInvalid,
                $"the recovery secret does not open key backup {parsed.Header.Id}: the secret is wrong or the file was modified; nothing was restored");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        try
        {
            return DecodeContents(plaintext, parsed.Header.Id);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Compares a key backup with a keys directory without writing anything.</summary>
    public static KeyBackupComparison Compare(KeyBackupContents contents, string keysDirectory)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var root = Path.GetFullPath(keysDirectory);
        List<string> matching = [], missing = [], different = [];
        foreach (var file in contents.Files)
        {
            var path = Path.Combine(root, file.Path);
            if (!File.Exists(path))
            {
                missing.Add(file.Path);
            }
            else if (CryptographicOperations.FixedTimeEquals(File.ReadAllBytes(path), file.Content))
            {
                matching.Add(file.Path);
            }
            else
            {
                different.Add(file.Path);
            }
        }

        var held = contents.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var notInBackup = Directory.Exists(root)
            ? Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(p => !p.EndsWith(".tmp", StringComparison.Ordinal) && !held.Contains(p))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
        return new KeyBackupComparison(matching, missing, different, notInBackup);
    }

    /// <summary>
    /// Writes every file of <paramref name="contents"/> into <paramref name="keysDirectory"/>
    /// (created 0700), each 0600-created, fsynced and renamed into place. Refuses, before writing
    /// anything, when any of them already exists: a restore never replaces a key.
    /// </summary>
    public static IReadOnlyList<string> RestoreInto(KeyBackupContents contents, string keysDirectory, string? dataRoot = null)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var root = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        var clashes = contents.Files.Where(f => File.Exists(Path.Combine(root, f.Path))).Select(f => f.Path).ToList();
        if (clashes.Count > 0)
        {
            throw new ForgeOneException(ErrorCodes.Conflict,
                $"keys directory '{root}' already holds {string.Join(", ", clashes)}; a key restore never replaces a key (restore into an empty keys directory)");
        }

        var written = new List<string>();
        foreach (var file in contents.Files)
        {
            var path = Path.GetFullPath(Path.Combine(root, file.Path));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"key backup names a file outside the keys directory: {file.Path}");
            }

            var directory = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(directory))
            {
                KeyFiles.PrepareDirectory(directory, dataRoot);
            }

            if (!KeyFiles.TryCreate(path, file.Content))
            {
                throw new ForgeOneException(ErrorCodes.Conflict, $"'{path}' appeared while restoring; it was left as found");
            }

            if (!OperatingSystem.IsWindows())
            {
                // Keys stay owner-only whatever the archive says; public certificates may be wider.
                File.SetUnixFileMode(path, (UnixFileMode)file.Mode & (file.Kind is KeyFileKind.ClusterCa ? (UnixFileMode)0x1FF : KeyFiles.OwnerOnly));
            }

            written.Add(file.Path);
        }

        return written;
    }

    private static byte[] DeriveKey(ReadOnlySpan<char> secret, ReadOnlySpan<byte> salt, uint opsLimit, uint memLimitKiB)
    {
        var password = new byte[Encoding.UTF8.GetMaxByteCount(secret.Length)];
        var key = new byte[32];
        try
        {
            var n = Encoding.UTF8.GetBytes(secret, password);
            if (!Sodium.Argon2id(key, password.AsSpan(0, n), salt, opsLimit, checked((nuint)memLimitKiB * 1024)))
            {
                throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"Argon2id could not run with opslimit {opsLimit} and {memLimitKiB} KiB (libsodium missing or out of memory)");
            }

            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private static void CheckSecret(ReadOnlySpan<char> secret)
    {
        if (secret.Trim().Length < MinSecretLength)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a recovery secret is at least {MinSecretLength} characters");
        }
    }

    private static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 200 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw Errors.Invalid("a key backup id is 1..200 of A-Z a-z 0-9 - _ .");
        }
    }

    private static byte[] EncodeContents(KeyBackupContents contents)
    {
        using var ms = new MemoryStream();
        Span<byte> scratch = stackalloc byte[4];
        ms.WriteByte(1);
        BinaryPrimitives.WriteUInt32BigEndian(scratch, (uint)contents.Files.Count);
        ms.Write(scratch);
        foreach (var file in contents.Files)
        {
            var path = Encoding.UTF8.GetBytes(file.Path);
            BinaryPrimitives.WriteUInt16BigEndian(scratch, checked((ushort)path.Length));
            ms.Write(scratch[..2]);
            ms.Write(path);
            ms.WriteByte((byte)file.Kind);
            BinaryPrimitives.WriteUInt32BigEndian(scratch, (uint)file.Mode);
            ms.Write(scratch);
            BinaryPrimitives.WriteUInt32BigEndian(scratch, (uint)file.Content.Length);
            ms.Write(scratch);
            ms.Write(file.Content);
        }

        return ms.ToArray();
    }

    private static KeyBackupContents DecodeContents(ReadOnlySpan<byte> plaintext, string id)
    {
        var r = new SpanReader(plaintext, ErrorCodes.CryptoUnknownFormat, $"key backup {id}");
        if (r.U8() != 1)
        {
            throw r.Fail("unknown contents version");
        }

        var count = r.U32();
        if (count > 10_000)
        {
            throw r.Fail($"{count} files");
        }

        var files = new List<KeyBackupFile>((int)count);
        for (var i = 0; i < count; i++)
        {
            var path = r.String16();
            var kind = (KeyFileKind)r.U8();
            var mode = (int)r.U32();
            var length = r.U32();
            if (length > r.Remaining)
            {
                throw r.Fail($"file {path} is cut short");
            }

            if (path.Length == 0 || path.StartsWith('/') || path.Split('/').Any(part => part is "" or "." or ".."))
            {
                throw r.Fail($"file path '{path}' is not a plain relative path");
            }

            files.Add(new KeyBackupFile(path, kind, mode, r.Bytes((int)length).ToArray()));
        }

        r.End();
        return new KeyBackupContents(files);
    }

    private static Parsed Parse(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.CryptoUnknownFormat, "key backup");
        if (data.Length < 4 || !data[..4].SequenceEqual(Magic))
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, "not a ForgeOne key backup (bad magic)");
        }

        r.Bytes(4);
        var format = r.U8();
        var kdf = r.U8();
        if (format != Format || kdf != KdfArgon2id)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"key backup format {format} / KDF {kdf} is not supported (expected {Format} / Argon2id)");
        }

        var ops = r.U32();
        var mem = r.U32();
        if (ops is < 1 or > 64 || mem is < 8 * 1024 or > 4 * 1024 * 1024)
        {
            // A forged header must not make us allocate terabytes or spin for hours.
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"key backup asks for Argon2id opslimit {ops} and {mem} KiB: outside the accepted range");
        }

        var salt = r.Bytes(SaltLength).ToArray();
        var nonce = r.Bytes(NonceLength).ToArray();
        var id = r.String16();
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("time out of range");
        }

        var length = r.U32();
        var headerLength = r.Position;
        if ((long)length + TagLength != r.Remaining)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"key backup {id} is {data.Length} bytes; its header announces {length} bytes of ciphertext (truncated or padded)");
        }

        return new Parsed(new KeyBackupHeader(id, new DateTimeOffset(ticks, TimeSpan.Zero), ops, mem), salt, nonce, headerLength, (int)length);
    }

    private sealed record Parsed(KeyBackupHeader Header, byte[] Salt, byte[] Nonce, int HeaderLength, int CiphertextLength);
}
