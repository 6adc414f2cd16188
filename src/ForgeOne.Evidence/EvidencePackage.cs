using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Evidence;

/// <summary>One file's entry in the manifest.</summary>
/// <param name="Path">Path inside the package (forward slashes, relative).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
/// <param name="Size">Bytes.</param>
public sealed record ManifestFile(string Path, string Sha256, long Size);

/// <summary>
/// The package manifest (<c>manifest.json</c>): what the package covers and the SHA-256 of every
/// other file. <c>manifest.sig</c> holds the audit key's signature over these exact bytes.
/// </summary>
/// <param name="Format">Package format (1).</param>
/// <param name="CreatedAt">When the package was written.</param>
/// <param name="CreatedBy">The principal that exported it.</param>
/// <param name="Frameworks">Frameworks whose control maps it holds.</param>
/// <param name="From">Start of the period (inclusive).</param>
/// <param name="To">End of the period (inclusive).</param>
/// <param name="Tenant">Tenant the package is limited to, or null for the whole cluster.</param>
/// <param name="KeyId">Hex id of the audit key that signs the manifest (and the seals).</param>
/// <param name="Files">Every file but the manifest and its signature, sorted by path.</param>
public sealed record EvidenceManifest(int Format, DateTimeOffset CreatedAt, string CreatedBy, string[] Frameworks, DateTimeOffset From, DateTimeOffset To, string? Tenant, string KeyId, ManifestFile[] Files);

/// <summary>The signature file (<c>manifest.sig</c>).</summary>
/// <param name="KeyId">Hex id of the signing key (first 16 bytes of SHA-256 of its SubjectPublicKeyInfo).</param>
/// <param name="Algorithm">Always <c>ECDSA-P256-SHA256-P1363</c>.</param>
/// <param name="Signature">Base64 signature over the bytes of <c>manifest.json</c>.</param>
public sealed record ManifestSignature(string KeyId, string Algorithm, string Signature);

/// <summary>
/// The evidence package file (docs/EVIDENCE.md): a gzip-compressed POSIX tar whose entries are
/// <c>manifest.json</c>, <c>manifest.sig</c> and the files the manifest lists, all regular files
/// under relative paths. Writing signs the manifest with the audit key; reading enforces the
/// shape (no links, no absolute or <c>..</c> paths, no duplicates, bounded sizes) before anyone
/// looks at a byte of content.
/// </summary>
public static class EvidencePackage
{
    /// <summary>Package format written.</summary>
    public const int Format = 1;

    /// <summary>The manifest's path.</summary>
    public const string ManifestPath = "manifest.json";

    /// <summary>The manifest signature's path.</summary>
    public const string SignaturePath = "manifest.sig";

    /// <summary>Signature algorithm name in <see cref="ManifestSignature"/>.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256-P1363";

    /// <summary>Largest package the reader accepts, uncompressed (a gzip bomb stops here).</summary>
    public const long MaxTotalBytes = 4L << 30;

    /// <summary>Largest single file the reader accepts.</summary>
    public const long MaxFileBytes = 1L << 30;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The manifest over <paramref name="files"/> and its exact bytes (what the audit key signs).</summary>
    public static (EvidenceManifest Manifest, byte[] Bytes) Manifest(IReadOnlyDictionary<string, byte[]> files, string keyId, EvidenceScope scope, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(scope);
        foreach (var path in files.Keys)
        {
            CheckPath(path);
            if (path is ManifestPath or SignaturePath)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{path}' is the package's own file");
            }
        }

        var manifest = new EvidenceManifest(Format, createdAt, scope.CreatedBy, scope.Frameworks, scope.From, scope.To, scope.Tenant, keyId,
            [.. files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => new ManifestFile(f.Key, Convert.ToHexStringLower(SHA256.HashData(f.Value)), f.Value.Length))]);
        return (manifest, JsonSerializer.SerializeToUtf8Bytes(manifest, Json));
    }

    /// <summary>Signs with a local key and writes the package (<see cref="WriteSigned"/>).</summary>
    public static EvidenceManifest Write(Stream output, IReadOnlyDictionary<string, byte[]> files, AuditSigner signer, EvidenceScope scope, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var (manifest, bytes) = Manifest(files, signer.PublicKeyFingerprint, scope, createdAt);
        WriteSigned(output, files, bytes, signer.SignEvidenceManifest(bytes), signer.PublicKeyFingerprint, createdAt);
        return manifest;
    }

    /// <summary>
    /// Writes the package: the manifest bytes, their signature (made by whoever holds the audit
    /// key: <see cref="AuditSigner.SignEvidenceManifest"/>), then the files in path order, with
    /// fixed timestamps and modes so the same content gives the same bytes.
    /// </summary>
    public static void WriteSigned(Stream output, IReadOnlyDictionary<string, byte[]> files, byte[] manifestBytes, byte[] signature, string keyId, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(files);
        var sig = new ManifestSignature(keyId, Algorithm, Convert.ToBase64String(signature));
        using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        Add(tar, ManifestPath, manifestBytes, createdAt);
        Add(tar, SignaturePath, JsonSerializer.SerializeToUtf8Bytes(sig, Json), createdAt);
        foreach (var (path, bytes) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            CheckPath(path);
            Add(tar, path, bytes, createdAt);
        }
    }

    /// <summary>
    /// Reads every entry of a package into memory. Structural problems (not gzip/tar, a link or
    /// directory entry, an unsafe or repeated path, too large) are <c>evidence.malformed</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, byte[]> Read(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long total = 0;
        try
        {
            using var gzip = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw Malformed($"entry '{entry.Name}' is a {entry.EntryType}, not a regular file");
                }

                var path = entry.Name;
                if (!IsSafePath(path))
                {
                    throw Malformed($"entry '{path}' has an unsafe path (absolute, '..', backslash or empty segment)");
                }

                if (entry.Length > MaxFileBytes || (total += entry.Length) > MaxTotalBytes)
                {
                    throw Malformed($"entry '{path}' makes the package larger than allowed ({MaxFileBytes} bytes per file, {MaxTotalBytes} in all)");
                }

                var bytes = new byte[entry.Length];
                if (entry.DataStream is { } data)
                {
                    data.ReadExactly(bytes);
                }

                if (!files.TryAdd(path, bytes))
                {
                    throw Malformed($"entry '{path}' appears twice");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or InvalidOperationException)
        {
            throw Malformed($"not a readable tar.gz evidence package: {e.Message}");
        }

        return files;
    }

    /// <summary>True for a relative forward-slash path without empty, <c>.</c> or <c>..</c> segments.</summary>
    public static bool IsSafePath(string path) =>
        !string.IsNullOrEmpty(path) && path.Length <= 255 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains('\0')
        && path.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    internal static void CheckPath(string path)
    {
        if (!IsSafePath(path))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"'{path}' is not a safe relative package path");
        }
    }

    internal static ForgeOneException Malformed(string message) => new(ErrorCodes.EvidenceMalformed, message);

    private static void Add(TarWriter tar, string path, byte[] bytes, DateTimeOffset time)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
        {
            DataStream = new MemoryStream(bytes, writable: false),
            ModificationTime = time,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        tar.WriteEntry(entry);
    }

    internal static byte[] Utf8Lines(IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

/// <summary>What a package covers.</summary>
/// <param name="Frameworks">soc2, iso27001, gdpr (one or more).</param>
/// <param name="From">Start of the period.</param>
/// <param name="To">End of the period.</param>
/// <param name="Tenant">Only this tenant's records of processing and readable fields; null for all.</param>
/// <param name="CreatedBy">The exporting principal.</param>
public sealed record EvidenceScope(string[] Frameworks, DateTimeOffset From, DateTimeOffset To, string? Tenant, string CreatedBy);

/// <summary>What the holder of the audit key checks before signing a manifest for someone else.</summary>
public static class EvidenceManifestShape
{
    /// <summary>True for the bytes of a format-1 manifest (JSON with a key id and a file list of safe paths).</summary>
    public static bool IsManifest(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<EvidenceManifest>(bytes, EvidencePackage.Json) is { Format: EvidencePackage.Format, KeyId: not null, Files: not null } m
                && m.Files.All(f => f is not null && EvidencePackage.IsSafePath(f.Path) && f.Sha256 is { Length: 64 });
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
